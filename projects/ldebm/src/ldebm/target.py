"""The fixed 2-D latent target of the prior-only experiment: the paper's 16-Gaussian grid
(official ``synthetic_gaussian.py``: centres {±1, ±1/3}² ×4, σ = 0.5, ÷1.414, ×4), rescaled to
unit variance per coordinate so it lives on the scale of the N(0, I) reference of both priors.
Its density is exact, so samples of a learned prior can be scored without a VAE in between.
The "wrong methods" are deliberately wrong samplers that every metric must rank below the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp


@dataclass(frozen=True)
class GaussianGrid:
    """An equal-weight isotropic GMM: ``centres`` (K, 2), common std ``sigma``."""

    centres: np.ndarray
    sigma: float

    @property
    def spacing(self) -> float:
        """Distance between neighbouring centres."""
        d = np.linalg.norm(self.centres[:, None] - self.centres[None], axis=-1)
        return float(d[d > 0].min())

    def sample(self, n: int, rng: np.random.Generator, scale: float = 1.0, modes=None):
        """(x (n, 2), component ids (n,)); ``scale`` multiplies σ (a smeared target), ``modes``
        restricts the draw to those component ids (a target with missing modes)."""
        ids = rng.choice(len(self.centres) if modes is None else np.asarray(modes), n)
        x = self.centres[ids] + scale * self.sigma * rng.standard_normal((n, 2))
        return x.astype(np.float32), ids

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """Exact log p(x) of the mixture, (n,)."""
        d2 = ((x[:, None, :] - self.centres[None]) ** 2).sum(-1)
        log_comp = -d2 / (2 * self.sigma**2) - np.log(2 * np.pi * self.sigma**2)
        return logsumexp(log_comp, axis=1) - np.log(len(self.centres))

    def diffused(self, a: float, s: float) -> GaussianGrid:
        """The marginal of a·z + s·ε (ε ~ N(0, I)): again an equal-weight isotropic GMM."""
        return GaussianGrid(a * self.centres, float(np.sqrt((a * self.sigma) ** 2 + s**2)))


def grid16() -> GaussianGrid:
    """The official 4×4 grid rescaled to unit variance per coordinate."""
    side = np.array([-1.0, -1.0 / 3, 1.0 / 3, 1.0]) * 4 / 1.414 * 4
    centres = np.array([(a, b) for a in side for b in side])
    sigma = 0.5 / 1.414 * 4
    std = np.sqrt((side**2).mean() + sigma**2)
    return GaussianGrid(centres / std, sigma / std)


def wrong_samples(target: GaussianGrid, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Samplers a metric must rank below the data: the moment-matched Gaussian, the data
    smeared to 1.5σ, and the data restricted to 8 of the 16 modes (the left half)."""
    x_data, _ = target.sample(n, rng)
    mean, cov = x_data.mean(0), np.cov(x_data.T)
    gaussian = rng.multivariate_normal(mean, cov, n).astype(np.float32)
    smear, _ = target.sample(n, rng, scale=1.5)
    left = np.flatnonzero(target.centres[:, 0] < 0)
    half, _ = target.sample(n, rng, modes=left)
    return {"gaussian": gaussian, "smear": smear, "half_modes": half}


def grid16_official() -> GaussianGrid:
    """The official 4×4 grid at its own scale (``synthetic_gaussian.py``: spacing 3.77,
    σ = 1.41): the data x of the joint 2-D VAE, whose latent scale the encoder learns."""
    side = np.array([-1.0, -1.0 / 3, 1.0 / 3, 1.0]) * 4 / 1.414 * 4
    return GaussianGrid(np.array([(a, b) for a in side for b in side]), 0.5 / 1.414 * 4)


def pinwheel(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The official pinwheel (``synthetic_pinwheel.py``): 10 arms, radial σ 0.3, tangential σ
    0.1, rate 0.25, ×2 then ×4 in ``sample_data``; returns (x (n, 2), arm ids), the ids the
    official code drops by permuting."""
    n_arms, rate = 10, 0.25
    rads = np.linspace(0, 2 * np.pi, n_arms, endpoint=False)
    ids = np.repeat(np.arange(n_arms), n // n_arms + 1)[:n]
    features = rng.standard_normal((n, 2)) * np.array([0.3, 0.1])
    features[:, 0] += 1.0
    angles = rads[ids] + rate * np.exp(features[:, 0])
    rot = np.stack([np.cos(angles), -np.sin(angles), np.sin(angles), np.cos(angles)])
    x = 8.0 * np.einsum("ti,tij->tj", features, rot.T.reshape(-1, 2, 2))
    order = rng.permutation(n)
    return x[order].astype(np.float32), ids[order]
