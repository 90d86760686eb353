"""Posterior and planning Langevin dynamics, and the persistent chains."""

from __future__ import annotations

import torch
from conftest import tiny_lpt
from lpt.langevin import (
    LatentBuffer,
    plan_energy,
    plan_langevin,
    posterior_energy,
    posterior_langevin,
)


def test_posterior_langevin_lowers_negative_log_joint(batch):
    """Small-step Langevin (Eq. 5) on a fixed model moves z0 toward lower energy."""
    model = tiny_lpt()
    z0 = 2.0 * torch.randn(3, 4, 16, generator=torch.Generator().manual_seed(0))
    e0 = posterior_energy(model.eval(), z0, batch, 0.5, 0.5)
    g = torch.Generator().manual_seed(1)
    z1 = posterior_langevin(model.train(), z0, batch, 20, 0.05, 0.5, 0.5, generator=g)
    e1 = posterior_energy(model.eval(), z1, batch, 0.5, 0.5)
    assert (e1 < e0).all()
    assert model.eval() is model and not any(p.grad is not None for p in model.parameters())


def test_posterior_langevin_restores_train_mode(batch):
    model = tiny_lpt().train()
    posterior_langevin(model, torch.randn(3, 4, 16), batch, 1, 0.3, 0.5, 0.5)
    assert model.training


def test_posterior_energy_terms(batch):
    """E = ½‖z0‖² + SSE/(2σa²) + (y − ŷ)²/(2σy²): check against a literal transcription."""
    model = tiny_lpt().eval()
    z0 = torch.randn(3, 4, 16)
    z = model.prior(z0)
    a_hat = model.predict_actions(batch["states"], batch["actions"], z=z)
    sse = ((a_hat - batch["actions"]) ** 2).sum(-1).mul(batch["mask"]).sum(-1)
    y_hat = model.predict_return(z)
    want = 0.5 * (z0**2).sum((1, 2)) + sse / (2 * 0.7) + (batch["y"] - y_hat) ** 2 / (2 * 0.3)
    assert torch.allclose(posterior_energy(model, z0, batch, 0.7, 0.3), want, atol=1e-5)


def test_planning_moves_prediction_toward_target():
    model = tiny_lpt().eval()
    z0 = torch.randn(8, 4, 16, generator=torch.Generator().manual_seed(0))
    y_hat0 = model.predict_return(model.prior(z0))
    y_star = y_hat0.detach() + 1.0
    g = torch.Generator().manual_seed(1)
    z1 = plan_langevin(model, z0, y_star, 30, 0.1, 10.0, 0.5, generator=g)
    y_hat1 = model.predict_return(model.prior(z1))
    assert (y_hat1 - y_star).abs().mean() < (y_hat0 - y_star).abs().mean()
    e0 = plan_energy(model, z0, y_star, 10.0, 0.5)
    assert plan_energy(model, z1, y_star, 10.0, 0.5).mean() < e0.mean()


def test_planning_does_not_touch_the_transformer():
    model = tiny_lpt().eval()

    def boom(*args, **kwargs):
        raise AssertionError("planning evaluated the Transformer")

    model.transformer.forward = boom
    plan_langevin(model, torch.randn(2, 4, 16), torch.ones(2), 2, 0.3, 1.0, 0.5)


def test_buffer_changes_only_at_sampled_ids(batch):
    model = tiny_lpt()
    buf = LatentBuffer(n_traj=6, n_latent=4, h=16, seed=0)
    before = buf.z0.clone()
    idx = batch["idx"]
    z0 = posterior_langevin(model, buf.get(idx), batch, 2, 0.3, 0.5, 0.5)
    buf.set(idx, z0)
    changed = (buf.z0 != before).flatten(1).any(-1)
    assert changed.tolist() == [i in idx.tolist() for i in range(6)]
    assert torch.equal(buf.z0[idx], z0)


def test_posterior_langevin_lowers_energy_categorical(discrete_batch):
    """Eq. 5 with the categorical action likelihood (Connect Four) also descends its energy."""
    model = tiny_lpt(discrete=True, act_dim=7).eval()
    z0 = 2.0 * torch.randn(3, 4, 16, generator=torch.Generator().manual_seed(0))
    e0 = posterior_energy(model, z0, discrete_batch, 0.5, 0.5)
    g = torch.Generator().manual_seed(1)
    z1 = posterior_langevin(model, z0, discrete_batch, 20, 0.05, 0.5, 0.5, generator=g)
    assert (posterior_energy(model, z1, discrete_batch, 0.5, 0.5) < e0).all()
