"""Short-run Langevin dynamics on the posterior and on the EBM prior (official `sample_langevin_*`).

Both samplers iterate  z <- z - (delta^2 / 2) grad_z U(z) + delta * eps,  eps ~ N(0, I)  with
    posterior: U_post(z) = -sum Q_sigma(z; x) + tv TV(x~_b) + E(z) + ||z||^2 / 2   (delta_1, K1)
    prior:     U_prior(z) = E(z) + ||z||^2 / 2                                      (delta_0, K0)
Network parameters are frozen during sampling (only grad_z is needed). The encoders are not run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from drc.ebm import LatentEBM
from drc.model import DRC
from drc.objectives import expected_complete_log_lik, tv
from torch import nn


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """Temporarily set requires_grad=False on the parameters (saves the weight-gradient work)."""
    params = [p for m in modules for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, f in zip(params, flags):
            p.requires_grad_(f)


def prior_energy(ebm: LatentEBM, z: torch.Tensor) -> torch.Tensor:
    """U_prior(z) = E(z) + ||z||^2 / 2 per chain: (B,)."""
    return ebm(z) + 0.5 * z.square().sum(1)


def posterior_energy(
    model: DRC, ebm: LatentEBM, z: torch.Tensor, x: torch.Tensor, sigma: float, lam_tv: float
) -> torch.Tensor:
    """U_post(z) = -sum Q_sigma + lam_tv TV(x~_b) + E(z) + ||z||^2 / 2 per chain: (B,)."""
    r = model.render(z)
    Q = expected_complete_log_lik(r, x, sigma).flatten(1).sum(1)  # (B,)
    return -Q + lam_tv * tv(r.x_bw) + prior_energy(ebm, z)


def langevin_step(z: torch.Tensor, grad: torch.Tensor, delta: float, noise: bool) -> torch.Tensor:
    """z - delta^2 / 2 * grad + delta * eps."""
    z = z - 0.5 * delta**2 * grad
    return z + delta * torch.randn_like(z) if noise else z


def sample_prior(
    ebm: LatentEBM, z: torch.Tensor, K0: int, delta_0: float, noise: bool = True
) -> torch.Tensor:
    """K0 steps of prior Langevin from z (B, D); returns the detached chain state."""
    with frozen(ebm):
        for _ in range(K0):
            z = z.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(prior_energy(ebm, z).sum(), z)
            z = langevin_step(z, g, delta_0, noise)
    return z.detach()


def sample_posterior(
    model: DRC,
    ebm: LatentEBM,
    x: torch.Tensor,
    z: torch.Tensor,
    K1: int,
    delta_1: float,
    sigma: float,
    lam_tv: float,
    noise: bool = True,
) -> torch.Tensor:
    """K1 posterior Langevin steps for images x (B, 3, H, W) from z (B, D); returns detached z."""
    with frozen(model, ebm):
        for _ in range(K1):
            z = z.detach().requires_grad_(True)
            U = posterior_energy(model, ebm, z, x, sigma, lam_tv).sum()
            (g,) = torch.autograd.grad(U, z)
            z = langevin_step(z, g, delta_1, noise)
    return z.detach()
