"""BCO, the state-only imitation baseline (Torabi et al., 2018): an inverse-dynamics model
a ≈ I(s, s' − s) fitted to the same real interaction LanMDP's transition model sees, the
demonstrations labelled with its inferred actions, and behavioural cloning π(s) ≈ â by MSE.
"""

from __future__ import annotations

import numpy as np
import torch

from lanmdp.reacher import Transitions
from lanmdp.regressor import Regressor


def inverse_inputs(s: np.ndarray, s_next: np.ndarray) -> np.ndarray:
    """The inverse model's input (s, s' − s)."""
    return np.concatenate([s, s_next - s], 1)


class BCO:
    """The inverse model I and the cloned policy π of one run."""

    def __init__(self, S: int, A: int, inverse_size: tuple[int, int], policy_size: tuple[int, int]):
        self.inverse = Regressor(2 * S, A, *inverse_size)
        self.policy = Regressor(S, A, *policy_size)

    @torch.no_grad()
    def infer(self, s: np.ndarray, s_next: np.ndarray) -> np.ndarray:
        """The inferred actions â = clip(I(s, s' − s)) of transitions without actions."""
        x = torch.as_tensor(inverse_inputs(s, s_next))
        return self.inverse(x).clamp(-1.0, 1.0).numpy()

    def fit_inverse(self, data: Transitions, steps: int, batch: int, lr: float) -> float:
        return self.inverse.fit(inverse_inputs(data.s, data.s_next), data.a, steps, batch, lr)

    def clone(self, demos: Transitions, steps: int, batch: int, lr: float) -> float:
        """BC on the demonstrations relabelled by the current inverse model."""
        return self.policy.fit(demos.s, self.infer(demos.s, demos.s_next), steps, batch, lr)

    @torch.no_grad()
    def act(self, s: np.ndarray) -> np.ndarray:
        return self.policy(torch.as_tensor(s, dtype=torch.float32)).clamp(-1.0, 1.0).numpy()

    def inverse_error(self, data: Transitions) -> float:
        """Mean |â − a| on transitions with known actions."""
        return float(np.abs(self.infer(data.s, data.s_next) - data.a).mean())
