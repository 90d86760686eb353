"""Fréchet distance between Gaussians fitted to features (the core of FID), numpy/scipy only.

    d^2 = ||mu1 - mu2||^2 + Tr(Sigma1 + Sigma2 - 2 (Sigma1 Sigma2)^{1/2})

:func:`frechet_distance` follows the reference implementations (TTUR, pytorch-fid): the
matrix square root is ``scipy.linalg.sqrtm``; when it is not finite, ``eps * I`` is added to
both covariances; a complex result whose diagonal has an imaginary part above 1e-3 is an
error, otherwise the real part is kept. :class:`StreamingStats` accumulates mean and
covariance over feature batches in float64; :class:`GaussianStats` caches them as ``.npz``.

Which features feed it decides what the number means: Inception-v3 pool features
(:mod:`reprokit.inception`) give FID; the digits MLP of :mod:`reprokit.proxy` gives
"proxy-FID", which is not comparable with published FID values.

Example::

    from reprokit.fid import GaussianStats, StreamingStats, frechet_distance

    real = StreamingStats()
    for batch in feature_batches:          # each (B, d)
        real.update(batch)
    s1, s2 = real.finalize(), GaussianStats.load("fake_stats.npz")
    fid = frechet_distance(s1.mu, s1.sigma, s2.mu, s2.sigma)
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import linalg

from reprokit.cache import CacheError, load_npz_checked, save_npz_atomic


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (see the module docstring)."""
    mu1, mu2 = (
        np.atleast_1d(np.asarray(mu1, np.float64)),
        np.atleast_1d(np.asarray(mu2, np.float64)),
    )
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or mu1.ndim != 1:
        raise ValueError(
            f"mean vectors must be 1-d of equal length, got {mu1.shape} and {mu2.shape}"
        )
    d = mu1.shape[0]
    if sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"covariances must be ({d}, {d}) to match the means, "
            f"got {sigma1.shape} and {sigma2.shape}"
        )
    diff = mu1 - mu2
    with warnings.catch_warnings():  # like the reference's sqrtm(..., disp=False)
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            offset = np.eye(d) * eps  # product might be almost singular
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        max_imag = float(np.max(np.abs(np.diagonal(covmean).imag)))
        if max_imag > 1e-3:
            raise ValueError(
                f"sqrtm(sigma1 @ sigma2) has a large imaginary component {max_imag:.3g}"
            )
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


@dataclass
class GaussianStats:
    """Mean ``mu`` (d,), covariance ``sigma`` (d, d) and sample count ``n`` of a feature set."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``mu``, ``sigma``, ``n`` to an ``.npz`` atomically (with a checksum)."""
        return save_npz_atomic(path, {"mu": self.mu, "sigma": self.sigma, "n": np.int64(self.n)})

    @classmethod
    def load(cls, path: str | os.PathLike) -> GaussianStats:
        """Read stats written by :meth:`save`; ``ValueError`` (one line naming the file) if bad."""
        try:
            data = load_npz_checked(path)
        except CacheError as e:
            raise ValueError(f"FID statistics {e}") from None
        missing = [k for k in ("mu", "sigma", "n") if k not in data]
        if missing:
            raise ValueError(f"FID statistics {path}: missing arrays {missing}")
        mu, sigma, n = data["mu"], data["sigma"], data["n"]
        if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]) or n.shape != ():
            raise ValueError(
                f"FID statistics {path}: expected mu (d,), sigma (d, d), n scalar; "
                f"got {mu.shape}, {sigma.shape}, {n.shape}"
            )
        if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
            raise ValueError(f"FID statistics {path}: non-finite values")
        return cls(mu=mu.astype(np.float64), sigma=sigma.astype(np.float64), n=int(n))


class StreamingStats:
    """Running mean and covariance (``np.cov`` convention, ddof=1) over feature batches.

    Sums are kept in float64 around a shift (the first batch's mean) for numerical accuracy.
    """

    def __init__(self) -> None:
        self.n = 0
        self._shift: np.ndarray | None = None
        self._sum: np.ndarray | None = None  # (d,)   sum of (x - shift)
        self._outer: np.ndarray | None = None  # (d, d) sum of (x - shift)(x - shift)^T

    def update(self, feats: np.ndarray) -> StreamingStats:
        """Add a batch ``feats`` of shape (B, d) (any float dtype, or a torch/jax array on CPU)."""
        x = np.asarray(feats, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(
                f"StreamingStats.update: expected features (B, d), got shape {x.shape}"
            )
        if x.shape[0] == 0:
            return self
        if self._shift is None:
            self._shift = x.mean(axis=0)
            d = x.shape[1]
            self._sum, self._outer = np.zeros(d), np.zeros((d, d))
        elif x.shape[1] != self._shift.shape[0]:
            raise ValueError(
                f"StreamingStats.update: feature dim {x.shape[1]} != "
                f"{self._shift.shape[0]} seen before"
            )
        if not np.isfinite(x).all():
            raise ValueError("StreamingStats.update: features contain NaN or inf")
        xc = x - self._shift
        self._sum += xc.sum(axis=0)
        self._outer += xc.T @ xc
        self.n += x.shape[0]
        return self

    def finalize(self) -> GaussianStats:
        """The Gaussian fit so far; needs at least 2 samples."""
        if self.n < 2 or self._shift is None:
            raise ValueError(f"StreamingStats.finalize: need at least 2 samples, have {self.n}")
        m = self._sum / self.n
        sigma = (self._outer - self.n * np.outer(m, m)) / (self.n - 1)
        sigma = 0.5 * (sigma + sigma.T)
        return GaussianStats(mu=m + self._shift, sigma=sigma, n=self.n)


def gaussian_stats(feats: np.ndarray) -> GaussianStats:
    """Mean and covariance of a feature array (N, d) in one go."""
    return StreamingStats().update(feats).finalize()


def fid_from_features(feats1: np.ndarray, feats2: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two feature arrays (N1, d) and (N2, d)."""
    s1, s2 = gaussian_stats(feats1), gaussian_stats(feats2)
    return frechet_distance(s1.mu, s1.sigma, s2.mu, s2.sigma, eps=eps)
