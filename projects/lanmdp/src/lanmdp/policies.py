"""Decision-making as inference, model-free: execution = sampling the policy prior.

A policy maps state histories ctx (M, N, 2·L_max) to actions (M, N). Beside LanMDP's prior
sampling this module holds the references every gate and claim is read against: the regression
policy (observes actions), the nearest-neighbour oracle (copies the true action of the closest
training history: what the data permit at context L), uniform random and zero actions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from lanmdp.cubic import ACTION_BOX, DX, T
from lanmdp.langevin import LangevinSpec, prior_sample
from lanmdp.model import EnergyPolicy, RegressionPolicy, context_mask

Policy = Callable[[torch.Tensor], torch.Tensor]  # ctx (M, N, 2L) → a (M, N)


def path_contexts(y: torch.Tensor, steps: torch.Tensor, L: int) -> torch.Tensor:
    """Histories of ``steps`` on paths y (…, T+1) → (…, len(steps), 2L): most recent state first,
    slots before the start are zero states (as ``cubic.contexts``)."""
    idx = steps[:, None] - torch.arange(L, device=y.device)[None, :]  # (S, L)
    real = (idx >= 0).to(y.dtype)
    idx = idx.clamp_min(0)
    ys = y[..., idx] * real  # (…, S, L)
    xs = ((-1.0 + DX * idx.to(y.dtype)) * real).expand_as(ys)
    return torch.stack([ys, xs], dim=-1).flatten(-2)


def rollout(policy: Policy, y0: torch.Tensor, L: int) -> torch.Tensor:
    """Execute ``policy`` in the environment y' = y + a from y0 (M, N): paths (M, N, T+1)."""
    y = y0.new_zeros(*y0.shape, T + 1)
    y[..., 0] = y0
    for t in range(T):
        ctx = path_contexts(y, torch.tensor([t], device=y.device), L)[..., 0, :]
        a = policy(ctx).clamp(-ACTION_BOX, ACTION_BOX)
        y[..., t + 1] = y[..., t] + a
    return y


def lanmdp_policy(model: EnergyPolicy, steps: int, spec: LangevinSpec) -> Policy:
    """Model-free execution: one short-run prior sample of p_α(a | ctx) per history."""

    def act(ctx: torch.Tensor) -> torch.Tensor:
        return prior_sample(model.bind(ctx).grad, ctx.shape[:2], steps, spec, ctx.device)

    return act


def regression_policy(model: RegressionPolicy) -> Policy:
    """â = g(ctx), the MSE-trained policy that observes the true actions."""

    def act(ctx: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model(ctx)

    return act


def oracle_policy(train_ctx: torch.Tensor, train_a: torch.Tensor, lengths: list[int]) -> Policy:
    """Nearest-neighbour oracle: the true action of the training history closest to ctx among
    the member's own windows (train_ctx (M, W, 2L_max), train_a (M, W)), seeing L states."""
    mask = context_mask(lengths, train_ctx.shape[-1] // 2).to(train_ctx.device)
    ref = train_ctx * mask

    def act(ctx: torch.Tensor) -> torch.Tensor:
        nearest = torch.cdist(ctx * mask, ref).argmin(-1)  # (M, N)
        return torch.gather(train_a, 1, nearest)

    return act


def random_policy(ctx: torch.Tensor) -> torch.Tensor:
    """Uniform actions on the box (the chance reference of every metric)."""
    return (torch.rand(ctx.shape[:2], device=ctx.device) * 2.0 - 1.0) * ACTION_BOX


def zero_policy(ctx: torch.Tensor) -> torch.Tensor:
    """a = 0: straight lines (a degenerate policy the validity metric must reject)."""
    return ctx.new_zeros(ctx.shape[:2])
