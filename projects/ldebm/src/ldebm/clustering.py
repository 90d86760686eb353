"""Geometric clustering for the symbols (official ``modules/clustering.py``, faiss on GPU;
here scikit-learn on CPU): PCA-whitening of the latent means to ``pca_dim``, L2 normalisation,
k-means with K = number of symbols; batches drawn uniformly per cluster (``UnifLabelSampler``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA


def whitened_kmeans(
    mu: np.ndarray, n_clusters: int, pca_dim: int, l2_normalize: bool, seed: int, n_iter: int = 20
) -> Callable[[np.ndarray], np.ndarray]:
    """Fit PCA-whitening (and, officially, L2 normalisation) + k-means on the latent means
    ``mu``; returns the map from means to cluster ids (for held-out means too)."""
    pca = PCA(n_components=pca_dim, whiten=True, random_state=seed).fit(mu)

    def features(m: np.ndarray) -> np.ndarray:
        x = pca.transform(m)
        if l2_normalize:
            x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        return x.astype(np.float64)

    km = KMeans(n_clusters, n_init=1, max_iter=n_iter, random_state=seed).fit(features(mu))
    return lambda m: km.predict(features(m))


def pseudo_labels(
    mu: np.ndarray, n_clusters: int, pca_dim: int, l2_normalize: bool, seed: int, n_iter: int = 20
) -> np.ndarray:
    """k-means cluster ids (N,) of PCA-whitened (and, officially, L2-normalised) latent means."""
    x = PCA(n_components=pca_dim, whiten=True, random_state=seed).fit_transform(mu)
    if l2_normalize:
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    km = KMeans(n_clusters, n_init=1, max_iter=n_iter, random_state=seed)
    return km.fit_predict(x.astype(np.float64))


def uniform_label_indices(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices drawn equally from every non-empty cluster (official ``UnifLabelSampler``:
    each cluster contributes n // K (+1 for the first n mod K), with replacement), shuffled."""
    clusters = [np.flatnonzero(labels == k) for k in np.unique(labels)]
    per, extra = divmod(n, len(clusters))
    idx = [
        rng.choice(members, per + (i < extra), replace=True) for i, members in enumerate(clusters)
    ]
    return rng.permutation(np.concatenate(idx))
