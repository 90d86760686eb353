"""Short-run Langevin sampling of the energy-based policy prior p_α(a | ctx) ∝ exp(f_α(ctx, a)).

The official ``prior_sample_new_exmps``: start from the uniform base a ~ U[−δ, δ]; each step
adds noise N(0, ε²), computes ∇_a E with E = −f_α, clamps the gradient to ±``grad_clamp``,
moves a ← a − η·∇_a E and clamps a to the box [−δ, δ].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from lanmdp.cubic import ACTION_BOX

Energy = Callable[[torch.Tensor], torch.Tensor]  # a (…) → f(ctx, a) (…), the context bound
Gradient = Callable[[torch.Tensor], torch.Tensor]  # a (…) → ∇_a f(ctx, a) (…)


@dataclass(frozen=True)
class LangevinSpec:
    """Step size η, noise std ε, gradient clamp and the action box δ of the short-run chain."""

    step_size: float = 1.0
    noise: float = 0.02
    grad_clamp: float = 0.3
    box: float = ACTION_BOX


def autograd_grad(f: Energy) -> Gradient:
    """∇_a f by autograd, for energies without a closed-form gradient (planning objectives)."""

    def grad(a: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            a = a.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(f(a).sum(), a)
        return g

    return grad


def langevin_step(
    grad_f: Gradient, a: torch.Tensor, spec: LangevinSpec, noise: bool = True
) -> torch.Tensor:
    """One step on E = −f: a ← clamp(a + ε·n − η·clamp(∇_a E(a + ε·n)), −δ, δ)."""
    if noise:
        a = a + spec.noise * torch.randn_like(a)
    grad_E = (-grad_f(a)).clamp(-spec.grad_clamp, spec.grad_clamp)
    return (a - spec.step_size * grad_E).clamp(-spec.box, spec.box).detach()


def prior_sample(
    grad_f: Gradient,
    shape: tuple[int, ...],
    steps: int,
    spec: LangevinSpec,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Short-run prior samples: ``steps`` Langevin steps from U[−δ, δ]."""
    a = (torch.rand(shape, device=device) * 2.0 - 1.0) * spec.box
    for _ in range(steps):
        a = langevin_step(grad_f, a, spec)
    return a


@torch.no_grad()
def prior_mode(
    f: Energy,
    grad_f: Gradient,
    shape: tuple[int, ...],
    steps: int,
    spec: LangevinSpec,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """The official ``optimal=True`` read-out of the same chain: the lowest-energy (highest-f)
    point it visited, each point taken after its noise and before its gradient step."""
    a = (torch.rand(shape, device=device) * 2.0 - 1.0) * spec.box
    best, best_f = a, torch.full(shape, -torch.inf, device=device)
    for _ in range(steps):
        a = (a + spec.noise * torch.randn_like(a)).clamp(-spec.box, spec.box)
        fa = f(a)
        better = fa > best_f
        best, best_f = torch.where(better, a, best), torch.where(better, fa, best_f)
        a = langevin_step(grad_f, a, spec, noise=False)
    return best
