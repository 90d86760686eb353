"""Learning objectives of the latent priors (paper §3; official ``ldebm.py``/``ibebm``).

LDEBM: diffusion recovery likelihood — for a latent z, positive/negative pairs (z_t, z_{t+1}) at
a random level t ~ U{0, …, T−2} plus the top pair (z_{T−1}, z_T); the per-level contrastive
loss −[f(a·z_t, t) − f(a·ẑ_t, t)]·σ_1/σ_{t+1} with ẑ_t the recovery-Langevin sample started at
z_{t+1}; the information bottleneck MI(y; z_0) and the pseudo-label cross-entropy on the class
head at t = 0. SVEBM-IB: −f(z⁺) + f(z⁻) − λ·MI(y; z⁺) with z⁻ from short-run Langevin.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ldebm.energy import marginal_energy
from ldebm.schedule import Schedule


@dataclass
class Pairs:
    """2B diffusion pairs: rows [:B] at random levels, rows [B:] the top pair (t = T−1)."""

    x_pos: torch.Tensor  # z_t, (2B, d)
    x_neg: torch.Tensor  # z_{t+1}, (2B, d)
    t: torch.Tensor  # (2B,)


def q_sample(sched: Schedule, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """z_t = ā_t·z + σ̄_t·ε (t = 0 is already one small diffusion step, σ̄_0 = 0.01)."""
    return sched.a_s_cum[t][:, None] * z + sched.sigmas_cum[t][:, None] * torch.randn_like(z)


def training_pairs(sched: Schedule, z: torch.Tensor) -> Pairs:
    """Official ``sample_latent_training_pairs``: (z_t, z_{t+1} = a_{t+1} z_t + σ_{t+1} ε′)."""
    B = len(z)
    t_rand = torch.randint(0, sched.T - 1, (B,))
    t = torch.cat([t_rand, torch.full((B,), sched.T - 1, dtype=torch.long)])
    zz = torch.cat([z, z])
    x_pos = q_sample(sched, zz, t)
    x_neg = sched.a_s[t + 1][:, None] * x_pos + sched.sigmas[t + 1][:, None] * torch.randn_like(zz)
    return Pairs(x_pos, x_neg, t)


def contrastive_loss(
    ebm: nn.Module, sched: Schedule, x_pos: torch.Tensor, x_hat: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    """Official ``_get_training_lss`` summed over the two halves (random levels, top level):
    mean of −[f(a·x⁺, t) − f(a·x̂, t)]·σ_1/σ_{t+1} per half, a = a_prev[t+1]."""
    a = sched.a_s_prev[t + 1][:, None]
    f_pos = marginal_energy(ebm(a * x_pos.detach(), t))
    f_neg = marginal_energy(ebm(a * x_hat.detach(), t))
    per_pair = -(f_pos - f_neg) * sched.loss_scale(t)
    return per_pair.view(2, -1).mean(dim=1).sum()


def z0_input(sched: Schedule, z: torch.Tensor) -> torch.Tensor:
    """The class head's input at t = 0 (official ``compute_mi``): q_sample(z, 0)·a_prev[1]."""
    t0 = torch.zeros(len(z), dtype=torch.long)
    return q_sample(sched, z, t0) * sched.a_s_prev[1]


def mutual_information(logits: torch.Tensor, eps: float = 1e-15) -> torch.Tensor:
    """Information bottleneck term MI(y; z) = H(E_z p(y|z)) − E_z H(p(y|z)), p = softmax."""
    log_p = F.log_softmax(logits, dim=-1)
    p = log_p.exp()
    p_bar = p.mean(dim=0)
    h_marginal = -(p_bar * torch.log(p_bar + eps)).sum()
    h_conditional = -(p * log_p).sum(dim=-1).mean()
    return h_marginal - h_conditional


def pseudo_label_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the class head f_k(z_0, 0) against the k-means pseudo-labels."""
    return F.cross_entropy(logits, labels)


def svebm_loss(
    ebm: nn.Module, z_pos: torch.Tensor, z_neg: torch.Tensor, mi_weight: float
) -> torch.Tensor:
    """SVEBM-IB prior loss (official ``valid_loss`` without the VAE terms):
    −E f(z⁺) + E f(z⁻) − λ·MI(y; z⁺)."""
    logits_pos = ebm(z_pos)
    f_pos = marginal_energy(logits_pos).mean()
    f_neg = marginal_energy(ebm(z_neg.detach())).mean()
    return -f_pos + f_neg - mi_weight * mutual_information(logits_pos)
