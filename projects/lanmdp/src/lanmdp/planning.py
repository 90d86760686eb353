"""Decision-making as inference, model-based: planning = posterior sampling towards a goal.

The official ``prior_sample_planning_act_first``: from step t0 on, at every step t all future
actions a_{t:T} are refined by Langevin-type steps on

    U(a_{t:T}) = Σ_k −f_α(ctx_k, a_k) + α·(y_T − goal)²,

rolling the (known) transition y_{k+1} = y_k + a_k forward differentiably, so that ctx_k holds the
planned states; only a_t is executed (receding horizon). The first plan starts from the policy's
own actions (the plan is initialised from the policy) and each later plan from the previous one.
``goal_only`` drops the energy term: the wrong method that reaches the goal without the policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lanmdp.cubic import T
from lanmdp.langevin import LangevinSpec, autograd_grad, langevin_step
from lanmdp.model import EnergyPolicy
from lanmdp.policies import path_contexts


@dataclass(frozen=True)
class PlanSpec:
    """Receding-horizon planner (official: start t0 = 10, 500 steps of size 0.5, noise 0.02)."""

    start: int = 10
    steps: int = 500
    alpha: float = 1.0
    langevin: LangevinSpec = field(default_factory=lambda: LangevinSpec(step_size=0.5))
    goal_only: bool = False


def plan_objective(
    model: EnergyPolicy,
    history: torch.Tensor,
    t: int,
    a_plan: torch.Tensor,
    goal: torch.Tensor,
    spec: PlanSpec,
) -> torch.Tensor:
    """−U of the plan a_{t:T} (M, N, T−t) from the executed path history[..., :t+1] (higher is
    better, so that Langevin ascends it like f)."""
    y_future = history[..., t : t + 1] + torch.cumsum(a_plan, dim=-1)
    y = torch.cat([history[..., : t + 1], y_future], dim=-1)  # (M, N, T+1)
    goal_term = -spec.alpha * (y[..., -1] - goal) ** 2
    if spec.goal_only:
        return goal_term
    ctx = path_contexts(y, torch.arange(t, T, device=y.device), model.L_max)  # (M, N, H, 2L)
    M, N, H, _ = ctx.shape
    f = model(ctx.reshape(M, N * H, -1), a_plan.reshape(M, N * H)).reshape(M, N, H)
    return f.sum(-1) + goal_term


def plan_rollout(
    model: EnergyPolicy, policy_paths: torch.Tensor, goal: torch.Tensor, spec: PlanSpec
) -> torch.Tensor:
    """Execute the planner: the first ``spec.start`` steps are the policy's (policy_paths
    (M, N, T+1)); each later step executes the first action of a fresh plan. Paths (M, N, T+1)."""
    y = policy_paths.clone()
    a_plan = torch.diff(policy_paths[..., spec.start :], dim=-1)  # init: the policy's actions
    for t in range(spec.start, T):

        def objective(a: torch.Tensor, t: int = t) -> torch.Tensor:
            return plan_objective(model, y, t, a, goal, spec)

        grad = autograd_grad(objective)
        for _ in range(spec.steps):
            a_plan = langevin_step(grad, a_plan, spec.langevin)
        y[..., t + 1] = y[..., t] + a_plan[..., 0]
        a_plan = a_plan[..., 1:]
    return y
