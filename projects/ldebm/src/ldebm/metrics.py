"""Sample-quality metrics on the known 2-D target, chosen because each fails a wrong method
(note, design risk 3): precision within 2σ of a centre, KL of the mode histogram against
uniform, mean exact log-density, MMD² per RBF bandwidth; NMI of the symbols against the true
components; and the total-variation distance between a sampler and its own grid density.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from ldebm.target import IsotropicGMM


def nearest_centre(target: IsotropicGMM, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(id of the nearest centre, distance to it) per sample."""
    d = np.linalg.norm(x[:, None, :] - target.centres[None], axis=-1)
    return d.argmin(1), d.min(1)


def precision(target: IsotropicGMM, x: np.ndarray, radius: float = 2.0) -> float:
    """Fraction of samples within ``radius``·σ of some centre (data: 1 − e^{−2} ≈ 0.865)."""
    return float((nearest_centre(target, x)[1] <= radius * target.sigma).mean())


def mode_kl(target: IsotropicGMM, x: np.ndarray, eps: float = 1e-12) -> float:
    """KL(histogram of the nearest centres' modes ‖ uniform) = log K − H(hist) over the K modes
    (grid cells, pinwheel arms); half of the modes: log 2."""
    K = target.n_modes
    hist = np.bincount(target.modes[nearest_centre(target, x)[0]], minlength=K) / len(x)
    return float(np.log(K) + (hist * np.log(hist + eps)).sum())


def mean_log_density(target: IsotropicGMM, x: np.ndarray) -> float:
    """Mean exact log p(x) of the samples (higher: samples where the target has mass)."""
    return float(target.log_density(x.astype(np.float64)).mean())


def mmd2(x: np.ndarray, y: np.ndarray, bandwidth: float) -> float:
    """Unbiased MMD² with the RBF kernel exp(−‖a − b‖² / (2h²))."""
    x, y = x.astype(np.float64), y.astype(np.float64)

    def k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * bandwidth**2))

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    sxx = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(sxx + syy - 2 * kxy.mean())


def sample_metrics(
    target: IsotropicGMM, x: np.ndarray, reference: np.ndarray, bandwidths: dict[str, float]
) -> dict[str, float]:
    """All sample metrics of ``x`` against the target and held-out target samples."""
    out = {
        "precision": precision(target, x),
        "mode_kl": mode_kl(target, x),
        "log_density": mean_log_density(target, x),
    }
    for name, h in bandwidths.items():
        out[f"mmd_{name}"] = mmd2(x, reference, h)
    return out


def symbol_nmi(symbols: np.ndarray, components: np.ndarray) -> float:
    """NMI of argmax_k f_k against the true component ids (computed globally, not per batch)."""
    return float(normalized_mutual_info_score(components, symbols))


def grid_tv(samples: np.ndarray, log_density: np.ndarray, lim: float, n_bins: int) -> float:
    """TV distance between the histogram of ``samples`` on ``n_bins``² bins of [−lim, lim]² and
    the grid density whose unnormalised log values ``log_density`` (G, G) sit on a regular
    G×G grid of the same square (G a multiple of n_bins); samples outside count as mismatch."""
    G = log_density.shape[0]
    p = np.exp(log_density - log_density.max())
    p = p.reshape(n_bins, G // n_bins, n_bins, G // n_bins).sum((1, 3))
    p /= p.sum()
    h, _, _ = np.histogram2d(
        samples[:, 0], samples[:, 1], bins=n_bins, range=[[-lim, lim], [-lim, lim]]
    )
    q = h / len(samples)
    return float(0.5 * (np.abs(p - q).sum() + (1 - q.sum())))
