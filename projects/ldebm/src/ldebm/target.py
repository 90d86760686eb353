"""The fixed 2-D latent targets of the prior-only experiment, each an equal-weight isotropic
Gaussian mixture with an exact density (so samples of a learned prior can be scored without a
VAE in between, and every diffused level has closed-form conditionals):

* the paper's 16-Gaussian grid (official ``synthetic_gaussian.py``: centres {±1, ±1/3}² ×4,
  σ = 0.5, ÷1.414, ×4);
* a pinwheel-shaped mixture: each of the official pinwheel's 10 arms (``synthetic_pinwheel.py``)
  a chain of small Gaussians along the arm's spine (a deviation: the official pinwheel has no
  closed-form density).

Both are rescaled to unit variance per coordinate, the scale of the N(0, I) reference of both
priors. The "wrong methods" are deliberately wrong samplers that every metric must rank below
the data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm


@dataclass(frozen=True)
class IsotropicGMM:
    """An equal-weight isotropic GMM: ``centres`` (C, 2), common std ``sigma``; ``modes`` (C,)
    maps each component to its mode (the grid: one component per mode; the pinwheel: an arm of
    several), and ``anchor_pairs`` names component pairs of neighbouring modes, whose midpoints
    anchor the sampler gate's bimodal conditionals."""

    centres: np.ndarray
    sigma: float
    modes: np.ndarray
    anchor_pairs: tuple[tuple[int, int], ...]

    @property
    def n_modes(self) -> int:
        """Number of modes (grid cells or pinwheel arms)."""
        return int(self.modes.max()) + 1

    @property
    def spacing(self) -> float:
        """Smallest distance between centres of different modes."""
        d = np.linalg.norm(self.centres[:, None] - self.centres[None], axis=-1)
        return float(d[self.modes[:, None] != self.modes[None]].min())

    def sample(self, n: int, rng: np.random.Generator, scale: float = 1.0, modes=None):
        """(x (n, 2), mode ids (n,)); ``scale`` multiplies σ (a smeared target), ``modes``
        restricts the draw to those mode ids (a target with missing modes)."""
        allowed = np.arange(len(self.centres))
        if modes is not None:
            allowed = np.flatnonzero(np.isin(self.modes, modes))
        ids = rng.choice(allowed, n)
        x = self.centres[ids] + scale * self.sigma * rng.standard_normal((n, 2))
        return x.astype(np.float32), self.modes[ids]

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """Exact log p(x) of the mixture, (n,)."""
        d2 = ((x[:, None, :] - self.centres[None]) ** 2).sum(-1)
        log_comp = -d2 / (2 * self.sigma**2) - np.log(2 * np.pi * self.sigma**2)
        return logsumexp(log_comp, axis=1) - np.log(len(self.centres))

    def diffused(self, a: float, s: float) -> IsotropicGMM:
        """The marginal of a·z + s·ε (ε ~ N(0, I)): again an equal-weight isotropic GMM."""
        return replace(self, centres=a * self.centres, sigma=float(np.hypot(a * self.sigma, s)))


def _unit_variance(centres: np.ndarray, sigma: float, modes, pairs) -> IsotropicGMM:
    """The mixture scaled by one factor so that its larger per-coordinate variance is 1."""
    std = np.sqrt((centres**2).mean(0) - centres.mean(0) ** 2 + sigma**2).max()
    return IsotropicGMM(centres / std, float(sigma / std), np.asarray(modes), tuple(pairs))


def grid16() -> IsotropicGMM:
    """The official 4×4 grid rescaled to unit variance per coordinate."""
    g = grid16_official()
    return _unit_variance(g.centres, g.sigma, g.modes, g.anchor_pairs)


PINWHEEL_ARMS, PINWHEEL_RATE = 10, 0.25
PINWHEEL_RADIAL, PINWHEEL_TANGENTIAL = 0.3, 0.1  # official feature stds (before the ×8)


def pinwheel_mixture(per_arm: int = 10) -> IsotropicGMM:
    """The pinwheel as a Gaussian mixture, rescaled to unit variance: each of the 10 official
    arms is ``per_arm`` equal-weight Gaussians centred on the arm's spine (tangential feature
    0) at the quantiles (i + ½)/per_arm of the official radial feature N(1, 0.3²), with the
    official tangential width 0.1·8 as their common σ. The arms spiral as the official ones
    (angle = arm + 0.25·exp(radial feature)); the density is exact."""
    r = 1.0 + PINWHEEL_RADIAL * norm.ppf((np.arange(per_arm) + 0.5) / per_arm)
    arm = np.linspace(0, 2 * np.pi, PINWHEEL_ARMS, endpoint=False)
    angle = arm[:, None] + PINWHEEL_RATE * np.exp(r)[None]
    # the official rotation maps the spine feature (r, 0) to r·(cos a, −sin a); (arms, per_arm, 2)
    centres = 8.0 * r[None, :, None] * np.stack([np.cos(angle), -np.sin(angle)], -1)
    modes = np.repeat(np.arange(PINWHEEL_ARMS), per_arm)
    mid = per_arm // 2
    pairs = [(k * per_arm + mid, (k + 1) * per_arm + mid) for k in (0, 2, 5, 7)]
    return _unit_variance(centres.reshape(-1, 2), 8.0 * PINWHEEL_TANGENTIAL, modes, pairs)


TARGETS = {"grid": grid16, "pinwheel": pinwheel_mixture}
"""The prior-only experiment's targets by name."""


def wrong_samples(target: IsotropicGMM, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Samplers a metric must rank below the data: the moment-matched Gaussian, the data
    smeared to 1.5σ, and the data restricted to every other mode (8 of the grid's 16, 5 of the
    pinwheel's 10 arms)."""
    x_data, _ = target.sample(n, rng)
    mean, cov = x_data.mean(0), np.cov(x_data.T)
    gaussian = rng.multivariate_normal(mean, cov, n).astype(np.float32)
    smear, _ = target.sample(n, rng, scale=1.5)
    half, _ = target.sample(n, rng, modes=np.arange(0, target.n_modes, 2))
    return {"gaussian": gaussian, "smear": smear, "half_modes": half}


def grid16_official() -> IsotropicGMM:
    """The official 4×4 grid at its own scale (``synthetic_gaussian.py``: spacing 3.77,
    σ = 1.41): the data x of the joint 2-D VAE, whose latent scale the encoder learns; the
    sampler gate's anchors between the mode pairs (0, 1), (5, 6), (5, 9), (10, 14)."""
    side = np.array([-1.0, -1.0 / 3, 1.0 / 3, 1.0]) * 4 / 1.414 * 4
    centres = np.array([(a, b) for a in side for b in side])
    pairs = ((0, 1), (5, 6), (5, 9), (10, 14))
    return IsotropicGMM(centres, 0.5 / 1.414 * 4, np.arange(16), pairs)


def pinwheel(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The official pinwheel (``synthetic_pinwheel.py``): 10 arms, radial σ 0.3, tangential σ
    0.1, rate 0.25, ×2 then ×4 in ``sample_data``; returns (x (n, 2), arm ids), the ids the
    official code drops by permuting."""
    n_arms, rate = PINWHEEL_ARMS, PINWHEEL_RATE
    rads = np.linspace(0, 2 * np.pi, n_arms, endpoint=False)
    ids = np.repeat(np.arange(n_arms), n // n_arms + 1)[:n]
    features = rng.standard_normal((n, 2)) * np.array([PINWHEEL_RADIAL, PINWHEEL_TANGENTIAL])
    features[:, 0] += 1.0
    angles = rads[ids] + rate * np.exp(features[:, 0])
    rot = np.stack([np.cos(angles), -np.sin(angles), np.sin(angles), np.cos(angles)])
    x = 8.0 * np.einsum("ti,tij->tj", features, rot.T.reshape(-1, 2, 2))
    order = rng.permutation(n)
    return x[order].astype(np.float32), ids[order]
