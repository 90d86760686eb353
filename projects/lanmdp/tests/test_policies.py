"""Execution in the environment and the references (oracle, random, zero)."""

from __future__ import annotations

import numpy as np
import torch
from lanmdp.cubic import T, contexts, sample_curves, true_actions
from lanmdp.evaluate import random_action_error
from lanmdp.policies import oracle_policy, random_policy, rollout, zero_policy


def _train(n: int = 5, L: int = 6):
    y = sample_curves(n, np.random.default_rng(0))
    ctx = torch.tensor(contexts(y, L).reshape(1, -1, 2 * L), dtype=torch.float32)
    a = torch.tensor(true_actions(y).reshape(1, -1), dtype=torch.float32)
    return y, ctx, a


def test_rollout_follows_y_next_equals_y_plus_a() -> None:
    y0 = torch.tensor([[0.1, -0.3]])
    paths = rollout(lambda ctx: torch.full(ctx.shape[:2], 0.02), y0, L=3)
    assert paths.shape == (1, 2, T + 1)
    torch.testing.assert_close(paths[..., -1], y0 + 0.02 * T)
    torch.testing.assert_close(rollout(zero_policy, y0, 3)[..., -1], y0)


def test_oracle_from_a_training_start_replays_its_curve() -> None:
    y, ctx, a = _train()
    oracle = oracle_policy(ctx, a, [6])
    paths = rollout(oracle, torch.tensor(y[:, :1].T, dtype=torch.float32), L=6)
    np.testing.assert_allclose(paths[0].numpy(), y, atol=1e-5)


def test_random_actions_error_is_exact() -> None:
    torch.manual_seed(0)
    a_true = torch.tensor([[0.0, 0.3, -0.45]])
    ctx = torch.zeros(1, 200_000, 2)
    draws = random_policy(ctx)
    assert draws.abs().max() <= 0.5
    mc = torch.stack([(draws - v).abs().mean() for v in a_true[0]])
    np.testing.assert_allclose(random_action_error(a_true)[0], mc.mean().item(), atol=2e-3)
