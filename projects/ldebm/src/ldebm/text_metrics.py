"""Scores of the text VAEs: symbol homogeneity / NMI against labels (computed globally, not per
batch as the official ``compute_homogeneity``; note B6), token accuracy with the sentence's own
latent and with a shuffled one (the copy-free floor of the reconstruction gate), active units,
MI(y; z) of the class head, and a TF-IDF/LSA + k-means reference clustering of the raw text.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.metrics import homogeneity_score, normalized_mutual_info_score
from sklearn.preprocessing import normalize

from ldebm import objectives as obj
from ldebm.text_learning import TextLearner


def cluster_scores(clusters: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Homogeneity (each cluster holds one label) and NMI of cluster ids against labels."""
    return {
        "homogeneity": float(homogeneity_score(labels, clusters)),
        "nmi": float(normalized_mutual_info_score(labels, clusters)),
    }


def smallest_share(clusters: np.ndarray, k: int) -> float:
    """The smallest of the k clusters' shares of the items (0 if one is empty)."""
    return float(np.bincount(clusters, minlength=k).min() / len(clusters))


@torch.no_grad()
def token_accuracy(lrn: TextLearner, x: torch.Tensor, shuffle: bool, seed: int) -> float:
    """Greedy next-token accuracy of the decoder given z = μ(x) (or μ of another sentence)."""
    lrn.vae.eval()
    mu, _ = lrn.vae.posterior(x)
    if shuffle:
        mu = mu[torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))]
    _, correct = lrn.vae.reconstruction(x, mu)
    lrn.vae.train()
    return float(correct.sum() / (x[:, 1:] != 0).sum())


@torch.no_grad()
def reconstruction_nll(lrn: TextLearner, x: torch.Tensor) -> float:
    """−log p(x | z) per word at a posterior sample (not the marginal NLL)."""
    lrn.vae.eval()
    mu, logvar = lrn.vae.posterior(x)
    nll, _ = lrn.vae.reconstruction(x, mu + torch.randn_like(mu) * (0.5 * logvar).exp())
    lrn.vae.train()
    return float(nll.sum() / (x[:, 1:] != 0).sum())


def active_units(mu: np.ndarray, threshold: float = 0.01) -> int:
    """Latent dimensions whose posterior mean varies across sentences (Cov_x E[z|x] > 0.01)."""
    return int((mu.var(axis=0) > threshold).sum())


@torch.no_grad()
def class_head_mi(lrn: TextLearner, mu: np.ndarray) -> float:
    """MI(y; z_0) of the class head at t = 0 (the IB term ``compute_mi``), over the items."""
    z = torch.from_numpy(mu)
    logits = lrn.ebm(obj.z0_input(lrn.sched, z), torch.zeros(len(z), dtype=torch.long))
    return float(obj.mutual_information(logits))


def tfidf_kmeans(texts: list[list[str]], k: int, seed: int, n_train: int) -> np.ndarray:
    """Reference clustering of the raw text (no VAE): TF-IDF of the content words (English stop
    words and punctuation dropped), LSA to 50 dimensions, L2 normalisation, k-means fitted on
    the first ``n_train`` items; the cluster ids of the remaining (held-out) ones."""

    def words(s: list[str]) -> list[str]:
        return [w for w in s if w.isalpha() and w not in ENGLISH_STOP_WORDS]

    tfidf = TfidfVectorizer(analyzer=words, min_df=2, sublinear_tf=True).fit(texts[:n_train])
    svd = TruncatedSVD(50, random_state=seed).fit(tfidf.transform(texts[:n_train]))

    def lsa(part: list[list[str]]) -> np.ndarray:
        return normalize(svd.transform(tfidf.transform(part)))

    km = KMeans(k, n_init=10, random_state=seed).fit(lsa(texts[:n_train]))
    return km.predict(lsa(texts[n_train:]))
