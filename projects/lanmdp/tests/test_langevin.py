"""Short-run Langevin prior sampling and the energy network's closed-form action gradient."""

from __future__ import annotations

import torch
from lanmdp.langevin import (
    LangevinSpec,
    autograd_grad,
    langevin_step,
    prior_mode,
    prior_sample,
)
from lanmdp.model import EnergyPolicy


def quadratic(a: torch.Tensor) -> torch.Tensor:
    """f(a) = −4 (a − 0.2)²: energy E = −f with its minimum at a = 0.2."""
    return -4.0 * (a - 0.2) ** 2


def test_a_langevin_step_lowers_the_energy() -> None:
    torch.manual_seed(0)
    a = torch.rand(500) - 0.5
    spec = LangevinSpec(step_size=0.05)
    after = langevin_step(autograd_grad(quadratic), a, spec, noise=False)
    assert torch.all(-quadratic(after) <= -quadratic(a) + 1e-7)
    assert (-quadratic(after)).mean() < 0.95 * (-quadratic(a)).mean()


def test_the_step_clamps_the_gradient_and_the_box() -> None:
    spec = LangevinSpec(step_size=1.0, grad_clamp=0.3, box=0.5)
    a = torch.tensor([-0.5, 0.45])
    out = langevin_step(lambda a: 100.0 * torch.ones_like(a), a, spec, noise=False)
    torch.testing.assert_close(out, torch.tensor([-0.2, 0.5]))  # +0.3 each, then the box


def test_short_run_samples_concentrate_at_the_mode() -> None:
    torch.manual_seed(1)
    spec = LangevinSpec(step_size=0.1, noise=0.02)
    a = prior_sample(autograd_grad(quadratic), (2000,), 60, spec)
    assert a.abs().max() <= spec.box
    assert abs(a.mean().item() - 0.2) < 0.01 and a.std().item() < 0.05


def test_the_lowest_energy_read_out_sits_closer_to_the_mode() -> None:
    """The official ``optimal=True`` read-out keeps the best visited point of a noisy chain:
    inside the box and nearer the mode than the chains' final points."""
    torch.manual_seed(3)
    spec = LangevinSpec(step_size=0.1, noise=0.05)
    final = prior_sample(autograd_grad(quadratic), (2000,), 60, spec)
    torch.manual_seed(3)
    best = prior_mode(quadratic, autograd_grad(quadratic), (2000,), 60, spec)
    assert best.abs().max() <= spec.box
    assert (best - 0.2).abs().mean() < 0.5 * (final - 0.2).abs().mean()


def test_closed_form_action_gradient_equals_autograd() -> None:
    torch.manual_seed(2)
    model = EnergyPolicy([1, 2, 6], hidden=16, layers=3)
    ctx, a = torch.randn(3, 40, 12), torch.rand(3, 40) - 0.5
    energy = model.bind(ctx)
    torch.testing.assert_close(energy(a), model(ctx, a))
    torch.testing.assert_close(energy.grad(a), autograd_grad(lambda x: model(ctx, x))(a))


def test_a_member_ignores_history_beyond_its_context() -> None:
    model = EnergyPolicy([1, 6], hidden=8)
    ctx, a = torch.randn(2, 5, 12), torch.zeros(2, 5)
    changed = ctx.clone()
    changed[:, :, 2:] += 1.0  # older states only
    diff = (model(changed, a) - model(ctx, a)).abs().amax(1)
    assert diff[0] == 0 and diff[1] > 0


def test_select_copies_members() -> None:
    model = EnergyPolicy([1, 6, 1, 6], hidden=8)
    sub = model.select([1, 3])
    ctx, a = torch.randn(4, 5, 12), torch.rand(4, 5) - 0.5
    torch.testing.assert_close(sub(ctx[[1, 3]], a[[1, 3]]), model(ctx, a)[[1, 3]])
