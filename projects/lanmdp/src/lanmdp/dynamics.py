"""The learned transition generator p_β(s' | s, a) = N(g_β(s, a), σ² diag(scale²)) (MuJoCo).

As in the official ``dynamics_continuous``, g_β is an MLP on (s, a) fitted by MSE to *real*
interaction (s, a, s') — random actions first, then the policy's own rollouts — never to the
demonstrations. Ours predicts the state change s' − s on standardised inputs and outputs; σ is
measured in units of the interaction's per-dimension std of s' − s ("scale"), so one σ fits the
angles, velocities and distances of the state alike (the official σ is on raw Hopper states).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from lanmdp.reacher import Transitions
from lanmdp.regressor import Regressor


class TransitionModel(nn.Module):
    """g_β(s, a) = s + r_β(s, a) with r_β a standardised Swish MLP (official: LeakyReLU)."""

    def __init__(self, state_dim: int, action_dim: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.change = Regressor(state_dim + action_dim, state_dim, hidden, layers)

    def forward(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """g_β(s, a): the predicted next state (…, S)."""
        return s + self.change(torch.cat([s, a], -1))

    def log_lik(
        self, s_next: torch.Tensor, s: torch.Tensor, a: torch.Tensor, sigma: float
    ) -> torch.Tensor:
        """log N(s'; g_β(s, a), σ² diag(scale²)) summed over the state dimensions (…)."""
        scale = sigma * self.change.y_std
        z = (s_next - self(s, a)) / scale
        return -0.5 * (z**2).sum(-1) - torch.log(scale * math.sqrt(2.0 * math.pi)).sum()

    def fit(self, data: Transitions, steps: int, batch: int, lr: float) -> float:
        """MSE on the real interaction's s' − s (see ``Regressor.fit``)."""
        x = np.concatenate([data.s, data.a], 1)
        return self.change.fit(x, data.s_next - data.s, steps, batch, lr)

    @torch.no_grad()
    def standardised_error(self, data: Transitions) -> float:
        """Held-out MSE of the predicted s' − s in units of its per-dimension variance (the
        copy predictor s' = s scores ≈ 1 + mean²/var; a perfect model 0)."""
        dev = self.change.y_std.device
        s, a, s_next = (torch.as_tensor(v, device=dev) for v in data.astuple())
        return float((((s_next - self(s, a)) / self.change.y_std) ** 2).mean())
