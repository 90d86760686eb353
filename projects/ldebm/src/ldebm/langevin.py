"""MCMC of the latent priors: recovery-likelihood Langevin per diffusion level (LDEBM),
progressive ancestral sampling (LDEBM generation), short-run Langevin from N(0, I) (SVEBM-IB).

Inside every chain the EBM's parameters are frozen and its spectral-norm weights are computed
once (``parametrize.cached``): the weights do not change within a chain, so the chain is the
same as with a power iteration per step, only cheaper.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn
from torch.nn.utils import parametrize

from ldebm.energy import LatentDiffusionEBM, marginal_energy
from ldebm.schedule import Schedule


@contextlib.contextmanager
def frozen(ebm: nn.Module) -> Iterator[None]:
    """EBM parameters frozen (no weight gradients), spectral norms and the time table cached for
    one chain (both are functions of the frozen weights only)."""
    flags = [p.requires_grad for p in ebm.parameters()]
    timed = [m for m in ebm.modules() if isinstance(m, LatentDiffusionEBM)]
    for p in ebm.parameters():
        p.requires_grad_(False)
    try:
        with parametrize.cached():
            for m in timed:
                m.frozen_table = m.time_table()
            yield
    finally:
        for m in timed:
            m.frozen_table = None
        for p, f in zip(ebm.parameters(), flags):
            p.requires_grad_(f)


def conditional_log_prob(
    ebm: nn.Module, sched: Schedule, y: torch.Tensor, x_tilde: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    """log p(y | x̃) up to a constant at level t (official ``_log_prob``; paper eq. 8 with the
    code's 1/s_t² energy scaling): f(y, t)/s_t² − ‖y − x̃·is_recovery‖² / (2σ²_{t+1}), (B,)."""
    s_sq = sched.step_size_sq[t]
    sigma = sched.sigmas[t + 1][:, None]
    anchor = x_tilde * sched.is_recovery[t + 1][:, None]
    return marginal_energy(ebm(y, t)) / s_sq - ((y - anchor) ** 2 / (2 * sigma**2)).sum(-1)


def recovery_langevin(
    ebm: nn.Module,
    sched: Schedule,
    x_tilde: torch.Tensor,
    t: torch.Tensor,
    n_steps: int,
    noise_scale: float = 1.0,
) -> torch.Tensor:
    """Sample z_t | z_{t+1} = x̃ (official ``_p_sample_langevin``): y ← x̃, then n_steps of
    y ← y + ½s_t²∇_y log p(y|x̃) + s_t·ε; return y / a_prev[t+1]. ``t``: (B,) levels."""
    s_sq = sched.step_size_sq[t][:, None]
    y = x_tilde.detach().clone()
    with frozen(ebm):
        for _ in range(n_steps):
            y.requires_grad_(True)
            grad = torch.autograd.grad(conditional_log_prob(ebm, sched, y, x_tilde, t).sum(), y)[0]
            y = (y + 0.5 * s_sq * grad + s_sq.sqrt() * noise_scale * torch.randn_like(y)).detach()
    return y / sched.a_s_prev[t + 1][:, None]


def progressive_levels(
    ebm: nn.Module, sched: Schedule, noise: torch.Tensor, n_steps: int
) -> list[torch.Tensor]:
    """Generation (official ``p_sample_progressive``): z_T = noise ~ N(0, I), then levels
    T−1, …, 0 of recovery Langevin, T·n_steps Langevin steps per sample. Returns every level's
    samples [z_{T−1}, …, z_0], each (B, d) (the last one is the prior sample)."""
    x, levels = noise, []
    for level in range(sched.T - 1, -1, -1):
        t = torch.full((len(x),), level, dtype=torch.long)
        x = recovery_langevin(ebm, sched, x, t, n_steps)
        levels.append(x)
    return levels


def short_run_langevin(
    ebm: nn.Module, z0: torch.Tensor, n_steps: int, step_size: float, prior_sigma: float = 1.0
) -> torch.Tensor:
    """SVEBM(-IB) prior sampling (official ``sample_ebm``): from z0 ~ N(0, I), n_steps of
    z ← z + ½s²(∇f(z) − z/σ_p²) + s·ε on p(z) ∝ exp(f(z))·N(0, σ_p² I)."""
    z = z0.detach().clone()
    with frozen(ebm):
        for _ in range(n_steps):
            z.requires_grad_(True)
            grad = torch.autograd.grad(marginal_energy(ebm(z)).sum(), z)[0]
            drift = grad - z / prior_sigma**2
            z = (z + 0.5 * step_size**2 * drift + step_size * torch.randn_like(z)).detach()
    return z
