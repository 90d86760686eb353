"""Does the posterior move z0, and does z move the policy? (the G_chain gate and the balance).

- ``chain_movement``: on training trajectories τ_i (teacher forcing), the distance between the
  policies under a trajectory's own posterior chain z_i = U(z0_i) and another trajectory's z_j,
  against the distance between two prior draws U(ε), U(ε'). If the chains never leave the prior
  (posterior collapse) the first is no larger than the second.
- ``gradient_balance``: per trajectory, the norms of the three gradients of the posterior energy
  of Eq. 5 (``lpt.langevin.posterior_energy``) w.r.t. z0 -- prior ½‖z0‖², action likelihood and
  return likelihood -- and of the injected noise s·ε of one Langevin step. The action and return
  terms move z0 by ½s²‖∇‖ per step against a random walk of size s‖ε‖.
"""

from __future__ import annotations

import numpy as np
import torch

from lpt.data import Trajectories
from lpt.evaluate import policy_shift
from lpt.langevin import LatentBuffer
from lpt.model import LPT


@torch.no_grad()
def chain_movement(
    model: LPT, buffer: LatentBuffer, data: Trajectories, idx: np.ndarray, seed: int
) -> dict[str, float]:
    """``{"own_vs_other", "prior_pair"}``: mean policy distances (``policy_shift``) on ``idx``."""
    model.eval()
    device = buffer.z0.device
    other = np.roll(idx, 1)  # another training trajectory's chain for each τ_i
    g = torch.Generator().manual_seed(seed)
    draws = [torch.randn(len(idx), *buffer.z0.shape[1:], generator=g).to(device) for _ in (0, 1)]
    own_z, other_z = (model.prior(buffer.z0[torch.as_tensor(i)]) for i in (idx, other))
    prior_a, prior_b = (model.prior(d) for d in draws)
    return {
        "own_vs_other": policy_shift(model, data, idx, {"z": own_z}, {"z": other_z}),
        "prior_pair": policy_shift(model, data, idx, {"z": prior_a}, {"z": prior_b}),
    }


def gradient_balance(
    model: LPT,
    buffer: LatentBuffer,
    data: Trajectories,
    idx: np.ndarray,
    s: float,
    sigma_a2: float,
    sigma_y2: float,
    ce_weight: float = 1.0,
) -> dict[str, float]:
    """Mean per-trajectory ‖∇_{z0}‖ of the prior, action and return terms at the persistent
    chains, and the noise norm s·‖ε‖ (expected s·√dim) of one step of Eq. 5."""
    model.eval()
    batch = data.batch(idx, buffer.z0.device)
    z0 = buffer.get(batch["idx"]).requires_grad_(True)
    with torch.enable_grad():
        z = model.prior(z0)
        terms = {
            "prior": 0.5 * z0.pow(2).flatten(1).sum(-1),
            "action": model.action_nll(
                batch["states"], batch["actions"], batch["mask"], sigma_a2, z=z, ce_weight=ce_weight
            ),
            "return": (batch["y"] - model.predict_return(z)).pow(2) / (2 * sigma_y2),
        }
        grads = {
            k: torch.autograd.grad(e.sum(), z0, retain_graph=True)[0] for k, e in terms.items()
        }
    out = {k: float(g.flatten(1).norm(dim=-1).mean()) for k, g in grads.items()}
    return out | {"noise": s * float(np.sqrt(z0[0].numel()))}
