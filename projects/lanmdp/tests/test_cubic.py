"""The task: curve generator, histories, and the exact valid-cubic checker."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lanmdp.cubic import ACTION_BOX, X_GRID, CurveSpec, T, contexts, fit_cubic, sample_curves
from lanmdp.policies import path_contexts


def test_curves_are_reachable_cubics() -> None:
    y = sample_curves(200, np.random.default_rng(0))
    assert y.shape == (200, T + 1)
    assert np.abs(np.diff(y, axis=1)).max() <= ACTION_BOX
    assert np.all(np.abs(y[:, 0]) <= 1.0) and np.abs(y).max() <= CurveSpec().y_max
    fit = fit_cubic(y)
    assert np.all(np.abs(fit.c3) >= CurveSpec().c3_min - 1e-9)
    assert fit.residual.max() < 1e-9


def test_checker_accepts_true_cubics_and_rejects_perturbed_ones() -> None:
    rng = np.random.default_rng(1)
    y = sample_curves(100, rng)
    assert fit_cubic(y).valid().all()
    noisy = y + rng.normal(0.0, 0.05, y.shape)
    assert fit_cubic(noisy).valid().mean() < 0.05
    quartic = y + 0.5 * X_GRID**4  # smooth but not a cubic
    assert not fit_cubic(quartic).valid().any()
    flat = y - fit_cubic(y).c3[:, None] * X_GRID**3  # a quadratic: c3 = 0
    assert not fit_cubic(flat).valid().any()


def test_random_actions_pass_the_official_c3_test_but_not_the_valid_test() -> None:
    """Design risk 1: |c3| ≥ 0.5 alone accepts about half of random paths."""
    rng = np.random.default_rng(2)
    a = rng.uniform(-ACTION_BOX, ACTION_BOX, (2000, T))
    y = np.concatenate([np.zeros((2000, 1)), np.cumsum(a, 1)], 1)
    fit = fit_cubic(y)
    assert 0.3 < fit.c3_only().mean() < 0.8
    assert fit.valid().mean() == 0.0


@pytest.mark.parametrize("L", [1, 3, 6])
def test_histories_pad_with_zero_states_and_match_the_torch_version(L: int) -> None:
    """Slots before the start are (y, x) = (0, 0), the official padding."""
    y = sample_curves(3, np.random.default_rng(3))
    ctx = contexts(y, L)
    assert ctx.shape == (3, T, 2 * L)
    np.testing.assert_allclose(ctx[:, 0, :2], np.stack([y[:, 0], np.full(3, -1.0)], 1))
    np.testing.assert_allclose(ctx[:, 0, 2:], 0.0)
    if L > 1:
        np.testing.assert_allclose(ctx[:, 1, 2:4], np.stack([y[:, 0], np.full(3, -1.0)], 1))
        np.testing.assert_allclose(ctx[:, 1, 4:], 0.0)
    np.testing.assert_allclose(ctx[:, T - 1, 0::2], y[:, T - 1 : T - 1 - L : -1])
    np.testing.assert_allclose(ctx[:, 5, 1], X_GRID[5])
    torch_ctx = path_contexts(torch.tensor(y), torch.arange(T), L)
    np.testing.assert_allclose(torch_ctx.numpy(), ctx)
