"""k-NN precision and recall in feature space (Kynkäänniemi et al., 2019).

Each set's manifold is the union of balls centred on its samples with radius the distance
to the sample's k-th nearest neighbour within the same set. Precision is the fraction of
fake samples inside the real manifold (quality); recall is the fraction of real samples
inside the fake manifold (coverage). Distances are computed in chunks (float64) so that
memory stays O(chunk * N).

Example::

    from reprokit.prdc import precision_recall

    p, r = precision_recall(real_feats, fake_feats, k=3)   # both (N, d) arrays
"""

from __future__ import annotations

import numpy as np


def _sq_dists(a: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (len(a), len(b)), clipped at 0."""
    d = np.sum(a * a, axis=1)[:, None] + b_sq[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


def knn_radii(feats: np.ndarray, k: int = 3, chunk: int = 1024) -> np.ndarray:
    """Distance (N,) of every sample to its k-th nearest neighbour in ``feats`` (self excluded)."""
    x = np.asarray(feats, dtype=np.float64)
    if k < 1 or k >= len(x):
        raise ValueError(f"k must be in [1, N-1] = [1, {len(x) - 1}], got {k}")
    x_sq = np.sum(x * x, axis=1)
    radii = np.empty(len(x))
    for lo in range(0, len(x), chunk):
        d = _sq_dists(x[lo : lo + chunk], x, x_sq)
        d[np.arange(len(d)), np.arange(lo, lo + len(d))] = -1.0  # self is the 0-th neighbour
        radii[lo : lo + chunk] = np.sqrt(np.partition(d, k, axis=1)[:, k])
    return radii


def _coverage(manifold: np.ndarray, radii: np.ndarray, queries: np.ndarray, chunk: int) -> float:
    """Fraction of ``queries`` within ``radii[j]`` of some ``manifold[j]``."""
    m_sq = np.sum(manifold * manifold, axis=1)
    r_sq = radii**2
    inside = 0
    for lo in range(0, len(queries), chunk):
        d = _sq_dists(queries[lo : lo + chunk], manifold, m_sq)
        inside += int(np.any(d <= r_sq[None, :], axis=1).sum())
    return inside / len(queries)


def precision_recall(
    real_feats: np.ndarray, fake_feats: np.ndarray, k: int = 3, chunk: int = 1024
) -> tuple[float, float]:
    """Improved precision and recall ``(p, r)`` of fake features (M, d) w.r.t. real ones (N, d)."""
    real = np.asarray(real_feats, dtype=np.float64)
    fake = np.asarray(fake_feats, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(
            "precision_recall: expected (N, d) and (M, d) features, "
            f"got {real.shape} and {fake.shape}"
        )
    if not (np.isfinite(real).all() and np.isfinite(fake).all()):
        raise ValueError("precision_recall: features contain NaN or inf")
    precision = _coverage(real, knn_radii(real, k, chunk), fake, chunk)
    recall = _coverage(fake, knn_radii(fake, k, chunk), real, chunk)
    return precision, recall
