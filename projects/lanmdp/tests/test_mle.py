"""The importance-sampled posterior, the contrastive loss and per-member clipping."""

from __future__ import annotations

import math

import torch
from lanmdp.mle import (
    clip_per_member,
    contrastive_loss,
    importance_weights,
    posterior_error_ratio,
    transition_log_lik,
)
from lanmdp.model import EnergyPolicy


def test_importance_weights_equal_the_analytic_gaussian_posterior() -> None:
    """Prior a ~ N(0, 1), y' = y + a + N(0, σ²): p(a | y, y') = N(d/(1+σ²), σ²/(1+σ²)), d = y'−y."""
    torch.manual_seed(0)
    sigma, y, y_next = 0.5, torch.tensor(0.3), torch.tensor(1.1)
    a = torch.randn(400_000)
    w = importance_weights(transition_log_lik(y_next, y, a, sigma, floor=-1e9))
    assert abs(w.sum().item() - len(a)) < 1e-2 * len(a) ** 0.5
    mean = (w * a).mean()
    var = (w * (a - mean) ** 2).mean()
    d = (y_next - y).item()
    assert abs(mean.item() - d / (1 + sigma**2)) < 0.01
    assert abs(var.item() - sigma**2 / (1 + sigma**2)) < 0.01


def test_log_likelihood_is_the_gaussian_density_and_is_floored() -> None:
    lp = transition_log_lik(torch.tensor(0.1), torch.tensor(0.0), torch.tensor(0.0), 0.05, -20.0)
    expected = -0.5 * (0.1 / 0.05) ** 2 - math.log(0.05 * math.sqrt(2 * math.pi))
    assert abs(lp.item() - expected) < 1e-5
    far = transition_log_lik(torch.tensor(1.0), torch.tensor(0.0), torch.tensor(0.0), 0.05, -20.0)
    assert far.item() == -20.0


def test_loss_gradient_is_posterior_minus_prior_expectation() -> None:
    """With f = θ·a the α-gradient of −mean f·(w − 1) is −(E_post[a] − E_prior[a])."""
    theta = torch.tensor(0.7, requires_grad=True)
    a = torch.tensor([[[0.1, -0.2, 0.3, 0.0]]])
    w = importance_weights(torch.tensor([[[0.0, -1.0, 1.0, 0.5]]]))
    contrastive_loss(lambda x: theta * x, a, w, f_sq=0.0).backward()
    expected = -((w * a).mean() - a.mean())
    assert abs(theta.grad.item() - expected.item()) < 1e-6


def test_gradient_penalty_is_zero_inside_the_band_and_positive_outside() -> None:
    a, w = torch.zeros(1, 2, 3), torch.ones(1, 2, 3)
    slope = torch.tensor(1.0, requires_grad=True)
    base = contrastive_loss(lambda x: slope * x, a, w, 0.0, grad_penalty=1.0)
    assert base.item() == 0.0
    steep = contrastive_loss(lambda x: 5.0 * slope * x, a, w, 0.0, grad_penalty=1.0)
    assert abs(steep.item() - 9.0) < 1e-5  # (|5| − 2)²


def test_posterior_ratio_is_below_one_when_the_weights_favour_the_true_action() -> None:
    a = torch.tensor([[[0.0, 0.2, -0.2, 0.4]]])
    a_true = torch.tensor([[0.0]])
    w = importance_weights(transition_log_lik(torch.tensor(0.0), torch.tensor(0.0), a, 0.1, -20))
    assert posterior_error_ratio(a, w, a_true).item() < 0.5
    flat = torch.ones_like(a)
    assert abs(posterior_error_ratio(a, flat, a_true).item() - 1.0) < 1e-6


def test_clipping_per_member_equals_clipping_each_member_alone() -> None:
    torch.manual_seed(3)
    model = EnergyPolicy([1, 1], hidden=4)
    ctx, a = torch.randn(2, 8, 2), torch.randn(2, 8)
    (model(ctx, a) * torch.tensor([[100.0], [0.001]])).sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    clip_per_member(list(model.parameters()), 0.5)
    for m in range(2):
        before = torch.cat([g[m].flatten() for g in grads])
        after = torch.cat([p.grad[m].flatten() for p in model.parameters()])
        expected = before * min(1.0, 0.5 / (before.norm().item() + 1e-6))
        torch.testing.assert_close(after, expected)
