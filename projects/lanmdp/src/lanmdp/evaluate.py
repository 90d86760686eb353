"""Metrics of the cubic task: valid-cubic rate of executed paths, teacher-forced action error,
and the posterior check of the learned prior.

Each function takes the ensemble's members (M) at once and returns one number per member.
"""

from __future__ import annotations

import numpy as np
import torch

from lanmdp.cubic import ACTION_BOX, fit_cubic
from lanmdp.policies import Policy, rollout


def path_metrics(paths: torch.Tensor, c3_min: float, tau: float) -> dict[str, np.ndarray]:
    """Per member (M,): valid-cubic rate, c3-only rate, mean fit residual of paths (M, N, T+1)."""
    fit = fit_cubic(paths.detach().cpu().numpy().astype(np.float64))
    return {
        "valid": fit.valid(c3_min, tau).mean(-1),
        "c3_only": fit.c3_only(c3_min).mean(-1),
        "residual": fit.residual.mean(-1),
    }


def execute(
    policy: Policy, y0: torch.Tensor, L: int, c3_min: float, tau: float
) -> tuple[torch.Tensor, dict[str, np.ndarray]]:
    """Roll ``policy`` out from the fresh starts y0 (M, N); its paths and their metrics."""
    paths = rollout(policy, y0, L)
    return paths, path_metrics(paths, c3_min, tau)


def action_error(policy: Policy, ctx: torch.Tensor, a_true: torch.Tensor) -> np.ndarray:
    """Teacher-forced mean |â − a*| on held-out windows ctx (M, N, 2L), per member."""
    a = policy(ctx).clamp(-ACTION_BOX, ACTION_BOX)
    return (a - a_true).abs().mean(-1).detach().cpu().numpy()


def random_action_error(a_true: torch.Tensor) -> np.ndarray:
    """E|U − a*| for U ~ U[−δ, δ], exactly: ((δ − a*)² + (δ + a*)²) / (4δ)."""
    d = ACTION_BOX
    err = ((d - a_true) ** 2 + (d + a_true) ** 2) / (4 * d)
    return err.mean(-1).cpu().numpy()
