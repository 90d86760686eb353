"""Sample-quality metrics: mode statistics of the 2-D mixtures (rare-mode recall), RBF-MMD,
sliced Wasserstein, and (digits) proxy-FID, precision/recall and the predicted-class histogram."""

from __future__ import annotations

import numpy as np

from emd.data import EIGHT_MODES, Mixture

MMD_BANDWIDTHS = (0.1, 0.3, 1.0)


def mode_stats(
    x: np.ndarray, mixture: Mixture = EIGHT_MODES, n_std: float = 4.0, min_mass: float = 0.2
) -> dict[str, float]:
    """Mode statistics of ``x (N, 2)`` against a mixture with known modes.

    A sample belongs to the mode nearest in units of that mode's std and is on it within
    ``n_std`` stds. A mode is covered when it holds at least ``min_mass`` of its expected share
    ``w_k N``. ``kl_weights`` is KL(true weights ‖ sample weights), the sample weights being the
    on-mode counts with add-one smoothing (finite when a mode is empty). ``rare_recall`` is the
    mean over the rare modes of ``min(1, count_k / (w_k N))``: the share of their mass recovered.
    """
    x = np.asarray(x, np.float64)
    w = mixture.weights
    d = np.linalg.norm(x[:, None, :] - mixture.means[None], axis=-1) / mixture.stds  # (N, M)
    nearest, dist = d.argmin(1), d.min(1)
    on = dist < n_std
    counts = np.bincount(nearest[on], minlength=len(w)).astype(np.float64)
    covered = int(np.sum(counts >= min_mass * w * len(x)))
    q = (counts + 1.0) / (counts.sum() + len(w))
    kl = float(np.sum(w * np.log(w / q)))
    recall = np.minimum(1.0, counts / (w * len(x)))
    return {
        "on_mode": float(on.mean()),
        "modes_covered": covered,
        "kl_weights": kl,
        "rare_recall": float(recall[mixture.rare].mean()),
    }


def mmd_rbf(x: np.ndarray, y: np.ndarray, bandwidths: tuple[float, ...] = MMD_BANDWIDTHS) -> float:
    """Biased (V-statistic) squared MMD with a sum of RBF kernels ``exp(−‖a−b‖²/(2h²))``."""
    x, y = (
        np.asarray(x, np.float64).reshape(len(x), -1),
        np.asarray(y, np.float64).reshape(len(y), -1),
    )

    def k(a: np.ndarray, b: np.ndarray) -> float:
        d2 = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None] - 2 * a @ b.T
        d2 = np.maximum(d2, 0.0)
        return float(sum(np.exp(-d2 / (2 * h * h)).mean() for h in bandwidths))

    return k(x, x) + k(y, y) - 2 * k(x, y)


def sliced_wasserstein(x: np.ndarray, y: np.ndarray, n_proj: int = 256, seed: int = 0) -> float:
    """Mean over random unit directions of the 1-D Wasserstein-1 distance of the projections."""
    x, y = (
        np.asarray(x, np.float64).reshape(len(x), -1),
        np.asarray(y, np.float64).reshape(len(y), -1),
    )
    n = min(len(x), len(y))
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(x.shape[1], n_proj))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    px, py = np.sort((x[:n] @ dirs), 0), np.sort((y[:n] @ dirs), 0)  # (n, P)
    return float(np.abs(px - py).mean())


def mixture_metrics(
    x: np.ndarray, ref: np.ndarray, mmd_samples: int, mixture: Mixture
) -> dict[str, float]:
    """All 2-D metrics of samples ``x`` against reference data ``ref`` of ``mixture``: the mode
    statistics on every sample, MMD² and sliced W1 on the first ``mmd_samples`` of each side."""
    out = mode_stats(x, mixture)
    out["mmd"] = mmd_rbf(x[:mmd_samples], ref[:mmd_samples])
    out["sliced_w"] = sliced_wasserstein(x[:mmd_samples], ref[:mmd_samples])
    return out


def digits_metrics(x: np.ndarray, ref: np.ndarray, mmd_samples: int) -> dict[str, float]:
    """Digits: proxy-FID, k-NN precision/recall in proxy features, KL(uniform ‖ class histogram)."""
    from reprokit.prdc import precision_recall
    from reprokit.proxy import ProxyFeatureNet, proxy_fid

    net = ProxyFeatureNet.load_or_train()
    x = np.clip(x, -1.0, 1.0)
    p, r = precision_recall(net.features(ref), net.features(x), k=3)
    hist = np.bincount(net.predict_proba(x).argmax(1), minlength=10) + 1.0
    hist /= hist.sum()
    return {
        "proxy_fid": float(proxy_fid(ref, x, net)),
        "precision": float(p),
        "recall": float(r),
        "class_kl": float(np.sum(0.1 * np.log(0.1 / hist))),
        "mmd": mmd_rbf(x[:mmd_samples], ref[:mmd_samples], bandwidths=(2.0, 4.0, 8.0)),
    }


def gaussian_fit_sample(data: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` samples of the single Gaussian fitted (mean, covariance) to ``data (N, D)``: a
    deliberately wrong reference model (gate ``G_teacher``)."""
    x = np.asarray(data, np.float64).reshape(len(data), -1)
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(x.mean(0), np.cov(x, rowvar=False), size=n)


def without_rare_modes(x: np.ndarray, mixture: Mixture, seed: int) -> np.ndarray:
    """Positive control for the mode metrics: ``x`` with every sample nearest a rare mode
    replaced by a random other sample of ``x`` (same size, the rare mass dropped)."""
    x = np.asarray(x, np.float64)
    d = np.linalg.norm(x[:, None, :] - mixture.means[None], axis=-1) / mixture.stds
    keep = ~mixture.rare[d.argmin(1)]
    rng = np.random.default_rng(seed)
    return x[keep][rng.integers(0, keep.sum(), len(x))]
