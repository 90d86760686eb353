"""The ELBO terms shared by the VAEs with a latent prior (paper eq. 10; official
``get_prior_loss`` and the entropy / KL terms of the task scripts): reparameterised posterior
samples, the free-bits mask, the Gaussian prior's KL and LDEBM's prior term with the EBM frozen.
"""

from __future__ import annotations

import torch
from torch import nn

from ldebm.energy import marginal_energy
from ldebm.langevin import frozen
from ldebm.objectives import Pairs
from ldebm.schedule import Schedule


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = μ + σ·ε."""
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()


def free_bits(per_dim: torch.Tensor, target: float) -> torch.Tensor:
    """Official free-bits mask: a latent dimension counts only where its term exceeds
    ``dim_target_kl``; summed over dimensions, averaged over the batch."""
    return (per_dim * (per_dim > target).float()).sum(1).mean()


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor, target: float) -> torch.Tensor:
    """KL(q(z|x) ‖ N(0, I)) per dimension, through the free-bits mask (Gaussian-prior VAE)."""
    return free_bits(0.5 * (mu**2 + logvar.exp() - 1.0 - logvar), target)


def ldebm_prior_kl(
    ebm: nn.Module, sched: Schedule, pairs: Pairs, logvar: torch.Tensor, target: float
) -> torch.Tensor:
    """LDEBM's KL(q ‖ p_θ) up to the normaliser (official ``get_prior_loss`` + entropy, EBM
    frozen, gradients to the encoder through the diffused positives): the free-bits entropy term
    −½(1 + log σ²), minus σ_1/σ_{t+1}·f(a·z_t, t) at the random levels, minus the top level's
    scale·f(z_{T−1}, T−1), plus its N(0, I) reference scale·½‖z_{T−1}‖²."""
    entropy = free_bits(-0.5 * (1.0 + logvar), target)
    a = sched.a_s_prev[pairs.t + 1][:, None]
    scale = sched.loss_scale(pairs.t)
    with frozen(ebm):
        f = marginal_energy(ebm(a * pairs.x_pos, pairs.t))
    energy = (-(f * scale)).view(2, -1).mean(1).sum()
    top = pairs.x_pos.view(2, len(logvar), -1)[1]
    reference = (scale.view(2, -1)[1] * 0.5 * (top**2).sum(1)).mean()
    return entropy + energy + reference
