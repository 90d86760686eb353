"""2-D metrics: they must separate good samples from collapsed or shifted ones."""

from __future__ import annotations

import jax
import numpy as np
from emd.data import MODES, mixture_sample
from emd.metrics import gaussian_fit_sample, mmd_rbf, mode_stats, sliced_wasserstein


def test_mode_stats_on_data_and_collapse():
    x = np.asarray(mixture_sample(jax.random.key(0), 5000))
    good = mode_stats(x)
    assert good["modes_covered"] == 8 and good["on_mode"] > 0.99 and good["kl_weights"] < 0.01
    collapsed = mode_stats(MODES[0] + 0.05 * np.random.default_rng(0).normal(size=(5000, 2)))
    assert collapsed["modes_covered"] == 1 and collapsed["kl_weights"] > 1.0
    mean_only = mode_stats(np.zeros((100, 2)))
    assert mean_only["on_mode"] == 0.0 and mean_only["modes_covered"] == 0


def test_mmd_and_sliced_wasserstein_detect_shift():
    x = np.asarray(mixture_sample(jax.random.key(1), 1000))
    y = np.asarray(mixture_sample(jax.random.key(2), 1000))
    assert abs(mmd_rbf(x, x)) < 1e-9
    assert mmd_rbf(x, y) < 0.1 * mmd_rbf(x, y + 0.3)
    assert sliced_wasserstein(x, y) < 0.5 * sliced_wasserstein(x, y + 0.3)


def test_gaussian_fit_matches_mean_and_covariance_but_not_the_modes():
    x = np.asarray(mixture_sample(jax.random.key(3), 5000))
    g = gaussian_fit_sample(x, 5000, seed=0)
    np.testing.assert_allclose(g.mean(0), x.mean(0), atol=0.05)
    np.testing.assert_allclose(np.cov(g, rowvar=False), np.cov(x, rowvar=False), atol=0.05)
    assert mode_stats(g)["on_mode"] < 0.5 < mode_stats(x)["on_mode"]
