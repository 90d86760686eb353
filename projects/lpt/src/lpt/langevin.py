"""Langevin dynamics on z0: the training posterior (Eq. 5) and test-time planning (Eq. 7).

Both use the update z0 ← z0 − ½s² ∇_{z0} E(z0) + s ε with the energy (negative log density)

  posterior  E(z0) = ½‖z0‖² + SSE_a(τ; U(z0)) / (2σ_a²) + (y − r_γ(U(z0)))² / (2σ_y²)
             (categorical actions, Connect Four: β Σ_t −log π(a_t) in place of SSE_a / (2σ_a²),
             β = ``ce_weight``, 1 = the plain likelihood)
  planning   E(z0) = ½‖z0‖² + ω (y* − r_γ(U(z0)))² / (2σ_y²)

The official code applies the prior+action gradient and the return gradient as two sub-steps and
omits the ½ of the Gaussian log-likelihoods (σ² = 0.5 in this notation); we take one gradient of
the full energy per step (the paper's Eq. 5) with σ_a² = σ_y² = 0.5 by default. The model is put
in eval mode (dropout off) during the chains, as in the official code. Planning never evaluates
the Transformer: only U_α and r_γ.
"""

from __future__ import annotations

import torch

from lpt.model import LPT


class LatentBuffer:
    """Persistent posterior chains: one z0 (n_latent, h) per trajectory id, initialised N(0, I)."""

    def __init__(
        self, n_traj: int, n_latent: int, h: int, seed: int, device: torch.device | str = "cpu"
    ) -> None:
        g = torch.Generator().manual_seed(seed)
        self.z0 = torch.randn(n_traj, n_latent, h, generator=g).to(device)

    def get(self, idx: torch.Tensor) -> torch.Tensor:
        return self.z0[idx].clone()

    def set(self, idx: torch.Tensor, z0: torch.Tensor) -> None:
        self.z0[idx] = z0.detach()


def posterior_energy(
    model: LPT,
    z0: torch.Tensor,
    batch: dict[str, torch.Tensor],
    sigma_a2: float,
    sigma_y2: float,
    ce_weight: float = 1.0,
) -> torch.Tensor:
    """E(z0) of the posterior p(z0 | τ, y) up to a constant, per trajectory: (B,)."""
    z = model.prior(z0)
    S, A, M = batch["states"], batch["actions"], batch["mask"]
    nll_a = model.action_nll(S, A, M, sigma_a2, z=z, ce_weight=ce_weight)
    ret = (batch["y"] - model.predict_return(z)).pow(2)
    return 0.5 * z0.pow(2).flatten(1).sum(-1) + nll_a + ret / (2 * sigma_y2)


def plan_energy(
    model: LPT, z0: torch.Tensor, y_star: torch.Tensor, omega: float, sigma_y2: float
) -> torch.Tensor:
    """E(z0) of p(z0 | y*) ∝ N(z0; 0, I) p_γ(y* | U(z0))^ω, per chain: (B,)."""
    ret = (y_star - model.predict_return(model.prior(z0))).pow(2)
    return 0.5 * z0.pow(2).flatten(1).sum(-1) + omega * ret / (2 * sigma_y2)


def _langevin(
    energy, z0: torch.Tensor, n_steps: int, s: float, generator: torch.Generator | None
) -> torch.Tensor:
    z0 = z0.detach().clone()
    for _ in range(n_steps):
        z0.requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(energy(z0).sum(), z0)
        noise = torch.randn(z0.shape, generator=generator, device="cpu").to(z0.device)
        z0 = (z0 - 0.5 * s * s * grad + s * noise).detach()
    return z0


def _in_eval_mode(model: LPT, fn):
    was_training = model.training
    model.eval()
    try:
        return fn()
    finally:
        model.train(was_training)


def posterior_langevin(
    model: LPT,
    z0: torch.Tensor,
    batch: dict[str, torch.Tensor],
    n_steps: int,
    s: float,
    sigma_a2: float,
    sigma_y2: float,
    generator: torch.Generator | None = None,
    ce_weight: float = 1.0,
) -> torch.Tensor:
    """N steps of Eq. 5 from the persistent chain state z0 (B, n_latent, h); returns new z0."""

    def energy(z):
        return posterior_energy(model, z, batch, sigma_a2, sigma_y2, ce_weight)

    return _in_eval_mode(model, lambda: _langevin(energy, z0, n_steps, s, generator))


def plan_langevin(
    model: LPT,
    z0: torch.Tensor,
    y_star: torch.Tensor,
    n_steps: int,
    s: float,
    omega: float,
    sigma_y2: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Test-time inference (Eq. 7): z0 ~ p(z0 | y*) by Langevin; ω = 1 LPT, ω > 1 LPT-EI."""

    def energy(z):
        return plan_energy(model, z, y_star, omega, sigma_y2)

    return _in_eval_mode(model, lambda: _langevin(energy, z0, n_steps, s, generator))
