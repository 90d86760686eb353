"""Tests for reprokit.prdc: k-NN precision and recall."""

from __future__ import annotations

import numpy as np
import pytest

from reprokit.prdc import knn_radii, precision_recall


def test_radii_match_bruteforce():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    expected = np.sort(d, axis=1)[:, 3]  # column 0 is the point itself
    np.testing.assert_allclose(knn_radii(x, k=3, chunk=7), expected, rtol=1e-9)


def test_identical_sets():
    x = np.random.default_rng(0).normal(size=(200, 4))
    p, r = precision_recall(x, x.copy(), k=3)
    assert p == 1.0 and r == 1.0


def test_same_distribution_high():
    rng = np.random.default_rng(1)
    p, r = precision_recall(rng.normal(size=(500, 2)), rng.normal(size=(500, 2)), k=3)
    assert p > 0.85 and r > 0.85


def test_disjoint_far_sets():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(100, 5))
    fake = rng.normal(size=(100, 5)) + 100.0
    assert precision_recall(real, fake) == (0.0, 0.0)


def test_mode_dropping():
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]])
    real = np.concatenate([c + rng.normal(size=(150, 2)) for c in centers])
    fake = centers[0] + rng.normal(size=(600, 2))  # only one of four modes
    p, r = precision_recall(real, fake, k=3, chunk=128)
    assert p > 0.9
    assert r < 0.35


def test_bad_inputs():
    with pytest.raises(ValueError, match="features"):
        precision_recall(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="k must be"):
        precision_recall(np.zeros((3, 2)), np.zeros((3, 2)), k=3)
    with pytest.raises(ValueError, match="NaN"):
        precision_recall(np.full((5, 2), np.nan), np.zeros((5, 2)))
