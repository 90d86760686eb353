"""Langevin dynamics in the official code's ½δ² form (``src/MCMC.py``).

    z_{k+1} = z_k − ½ δ² ∇_z U(z_k) + δ n_k,   n_k ~ N(0, I)

with U = U⁻ (prior, E_α(z) + ½‖z‖²) or U⁺ (posterior, adds ‖x − G(z)‖²/(2σ²)).
Only z receives gradients: parameters are untouched, so the chains can run on the raw modules
(not their DDP wrappers) inside a training step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from damc.model import LatentEBM

EnergyFn = Callable[[torch.Tensor], torch.Tensor]


def langevin(
    z: torch.Tensor,
    energy: EnergyFn,
    n_steps: int,
    step_size: float,
    with_noise: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Run ``n_steps`` of z ← z − ½δ²∇U(z) + δn; z: (B, d) -> (B, d), detached."""
    z = z.detach().clone()
    for _ in range(n_steps):
        z.requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(energy(z).sum(), z)
        z = z.detach() - 0.5 * step_size**2 * grad
        if with_noise:
            z = z + step_size * torch.randn(
                z.shape, device=z.device, dtype=z.dtype, generator=generator
            )
    return z.detach()


def prior_chain(
    ebm: LatentEBM, z: torch.Tensor, n_steps: int, step_size: float, with_noise: bool = True
) -> torch.Tensor:
    """Prior Langevin on U⁻(z) = E_α(z) + ½‖z‖² (``sample_langevin_prior_z``)."""
    return langevin(z, ebm.prior_energy, n_steps, step_size, with_noise)


def posterior_chain(
    ebm: LatentEBM,
    z: torch.Tensor,
    x: torch.Tensor,
    n_steps: int,
    step_size: float,
    with_noise: bool = True,
) -> torch.Tensor:
    """Posterior Langevin on U⁺(z; x) (``sample_langevin_post_z_with_prior``)."""
    return langevin(z, lambda z_: ebm.posterior_energy(z_, x), n_steps, step_size, with_noise)
