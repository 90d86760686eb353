"""Planning as posterior sampling towards a goal through the known transition y' = y + a."""

from __future__ import annotations

import torch
from lanmdp.cubic import T
from lanmdp.langevin import LangevinSpec
from lanmdp.model import EnergyPolicy
from lanmdp.planning import PlanSpec, plan_objective, plan_rollout


def _straight_paths(n: int) -> torch.Tensor:
    """Policy paths with constant action 0.05 from y0 = 0 (M = 1, N = n)."""
    return torch.cumsum(torch.cat([torch.zeros(1, n, 1), torch.full((1, n, T), 0.05)], -1), -1)


def test_planning_lowers_the_goal_error_on_the_known_linear_transition() -> None:
    torch.manual_seed(0)
    model = EnergyPolicy([1], hidden=8)
    paths = _straight_paths(16)
    goal = paths[..., -1] + torch.linspace(-0.6, 0.6, 16)
    spec = PlanSpec(start=10, steps=40, alpha=10.0, langevin=LangevinSpec(step_size=0.5))
    planned = plan_rollout(model, paths, goal, spec)
    before = (paths[..., -1] - goal).abs().mean()
    after = (planned[..., -1] - goal).abs().mean()
    assert after < 0.3 * before
    torch.testing.assert_close(planned[..., :11], paths[..., :11])  # the policy's first steps
    assert torch.diff(planned, dim=-1).abs().max() <= 0.5 + 1e-6  # actions stay in the box


def test_goal_only_ignores_the_energy_and_the_energy_term_counts_otherwise() -> None:
    torch.manual_seed(1)
    model = EnergyPolicy([2], hidden=8)
    paths = _straight_paths(4)
    goal, a = torch.zeros(1, 4), torch.full((1, 4, T - 10), 0.01)
    with_energy = plan_objective(model, paths, 10, a, goal, PlanSpec())
    goal_only = plan_objective(model, paths, 10, a, goal, PlanSpec(goal_only=True))
    y_T = paths[..., 10] + a.sum(-1)
    torch.testing.assert_close(goal_only, -((y_T - goal) ** 2))
    assert not torch.allclose(with_energy, goal_only)
