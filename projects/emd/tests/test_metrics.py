"""2-D metrics: they must separate good samples from collapsed or shifted ones."""

from __future__ import annotations

import jax
import numpy as np
from emd import data as data_mod
from emd.configs import DataConfig
from emd.data import EIGHT_MODES, RARE_MODES, mixture_sample
from emd.metrics import (
    digits_metrics,
    gaussian_fit_sample,
    mmd_rbf,
    mode_stats,
    sliced_wasserstein,
    without_rare_modes,
)
from emd.teacher_pilot import recall_sd, recovered_fraction


def test_mode_stats_on_data_and_collapse():
    x = np.asarray(mixture_sample(jax.random.key(0), 5000))
    good = mode_stats(x)
    assert good["modes_covered"] == 8 and good["on_mode"] > 0.99 and good["kl_weights"] < 0.01
    collapsed = mode_stats(
        EIGHT_MODES.means[0] + 0.05 * np.random.default_rng(0).normal(size=(5000, 2))
    )
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


def test_rare_recall_sees_dropped_rare_modes():
    """Data recover every rare mode; the same data with the rare modes removed recover none,
    and the mode-weight KL rises (the positive control of gate G_detect)."""
    x = np.asarray(RARE_MODES.sample(jax.random.key(4), 20000))
    full = mode_stats(x, RARE_MODES)
    assert full["rare_recall"] > 0.9 and full["modes_covered"] == 8
    dropped = without_rare_modes(x, RARE_MODES, seed=0)
    assert dropped.shape == x.shape
    part = mode_stats(dropped, RARE_MODES)
    assert part["rare_recall"] == 0.0 and part["modes_covered"] == int((~RARE_MODES.rare).sum())
    assert part["kl_weights"] > 10 * full["kl_weights"]


def test_recall_sd_predicts_the_spread_of_multinomial_counts():
    """G_rare's pilot: the binomial prediction matches the recall's spread over many simulated
    sample sets of known per-mode rates (r = 0.6 of each rare mode's mass: no clipping), and it
    fails a wrong n (the spread scales as 1/√n)."""
    w, rare, n = RARE_MODES.weights, RARE_MODES.rare, 5000
    r = np.where(rare, 0.6, 1.0)
    p = np.append(r * w, 1.0 - np.sum(r * w))  # the last cell: samples off every mode
    counts = np.random.default_rng(0).multinomial(n, p, size=4000)[:, :-1]
    recall = np.minimum(1.0, counts / (w * n))[:, rare].mean(1)
    predicted = recall_sd(r[rare], w[rare], n)
    assert abs(recall.std() / predicted - 1.0) < 0.05
    assert abs(recall.std() / recall_sd(r[rare], w[rare], 4 * n) - 1.0) > 0.5
    x = np.asarray(RARE_MODES.sample(jax.random.key(5), 20000))
    np.testing.assert_allclose(recovered_fraction(x, RARE_MODES), 1.0, atol=0.25)


def test_digits_metrics_fail_a_collapsed_generator():
    """Digits tier (issue 16 item 7): the loader gives flat 64-D digits in [−1, 1]; training digits
    score a low proxy-FID, high recall and a near-uniform class histogram against the test split,
    a generator that repeats one image fails all three."""
    sample, shape, test = data_mod.load(DataConfig(dataset="digits"))
    train = np.asarray(sample(jax.random.key(0), 300))
    assert shape == (64,) and test.shape[1] == 64 and np.abs(train).max() <= 1.0
    good = digits_metrics(train, test, mmd_samples=200)
    bad = digits_metrics(np.repeat(train[:1], 300, axis=0), test, mmd_samples=200)
    assert good["proxy_fid"] < 0.1 * bad["proxy_fid"] and good["recall"] > 0.5 > bad["recall"]
    assert good["class_kl"] < 0.1 < bad["class_kl"] and good["mmd"] < bad["mmd"]
