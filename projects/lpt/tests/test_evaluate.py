"""Rollouts: the cached incremental rollout equals the naive full-forward rollout; planning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import tiny_lpt
from lpt import maze2d
from lpt.evaluate import plan, planning_reference, rollout
from lpt.langevin import LatentBuffer
from lpt.maze2d import eval_spec
from lpt.model import DecisionTransformer
from test_train import synthetic


def test_cached_rollout_equals_naive_rollout(monkeypatch):
    # reward = x position, so the returns depend on every action taken
    monkeypatch.setattr(maze2d, "relabel_rewards", lambda pos, goal: pos[:, 0].astype(np.float32))
    spec = eval_spec("umaze", 300)
    data = synthetic()
    model = tiny_lpt().eval()
    z = torch.randn(3, 4, 16)
    cached, _ = rollout(model, spec, data, [1, 2, 3], z=z, horizon=40)
    naive, _ = rollout(model, spec, data, [1, 2, 3], z=z, cached=False, horizon=40)
    np.testing.assert_allclose(cached, naive, rtol=1e-5)
    assert np.abs(cached).min() > 0
    torch.manual_seed(0)
    dt = DecisionTransformer(4, 2, 16, 2, 2, 9, 0.0).eval()
    a = rollout(dt, spec, data, [4, 5], y_star=3.0, horizon=40)[0]
    b = rollout(dt, spec, data, [4, 5], y_star=3.0, cached=False, horizon=40)[0]
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_plan_returns_fixed_batch_of_latents_from_the_reference_chain():
    data = synthetic()
    model = tiny_lpt().eval()
    buf = LatentBuffer(data.n, 4, 16, seed=0)
    kw = dict(y_star=5.0, B=4, n_steps=3, s=0.3, omega=1.0, sigma_y2=0.5, seed=0)
    z, y_hat = plan(model, buf, data, **kw, start=1)
    assert z.shape == (4, 4, 16) and y_hat.shape == (4,)
    assert torch.equal(z, plan(model, buf, data, **kw, start=1)[0])  # seeded
    assert not torch.allclose(z, plan(model, buf, data, **kw, start=2)[0])  # another chain start


def test_planning_reference_is_the_best_eligible_trajectory():
    returns = np.array([5.0, 9.0, 7.0, 3.0])
    assert planning_reference(returns, np.ones(4, dtype=bool)) == 1  # official: the data's best
    assert planning_reference(returns, np.array([True, False, True, True])) == 2
    with pytest.raises(ValueError, match="eligible"):
        planning_reference(returns, np.zeros(4, dtype=bool))


def test_policy_shift_measures_how_much_conditioning_moves_the_policy():
    from lpt.evaluate import policy_shift

    data = synthetic()
    model = tiny_lpt().eval()
    idx = np.arange(3)
    z = torch.randn(3, 4, 16)
    assert policy_shift(model, data, idx, {"z": z}, {"z": z}) == 0.0
    other = torch.randn(3, 4, 16)  # (a constant shift of z would vanish in the LayerNorm ln_z)
    assert policy_shift(model, data, idx, {"z": z}, {"z": other}) > 1e-3
    torch.manual_seed(0)
    dt = DecisionTransformer(4, 2, 16, 2, 2, 9, 0.0).eval()
    y = torch.zeros(3)
    assert policy_shift(dt, data, idx, {"y": y}, {"y": y + 5.0}) > 1e-3
