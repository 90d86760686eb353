"""The latent EBM and the Langevin samplers: a step lowers the energy it targets."""

from __future__ import annotations

import torch
from drc.configs import smoke
from drc.ebm import LatentEBM
from drc.langevin import frozen, posterior_energy, prior_energy, sample_posterior, sample_prior
from drc.model import DRC


def _setup(reassign: bool = True):
    torch.manual_seed(0)
    cfg = smoke()
    cfg.model.reassign = reassign
    model = DRC(cfg.model, cfg.data.image_size)
    return cfg, model, LatentEBM(cfg.model, model.zs_dim)


def test_energy_is_class_coupled_lse() -> None:
    _cfg, model, ebm = _setup()
    z = torch.randn(4, model.z_dim)
    lf, lb = ebm.symbol_logits(z)
    ref = lf.logsumexp(1) + lb.logsumexp(1) + ebm.s(z[:, -model.zs_dim :]).squeeze(1)
    torch.testing.assert_close(ebm(z), ref)
    _, m2, e2 = _setup(reassign=False)
    assert e2.s is None and e2(torch.randn(3, m2.z_dim)).shape == (3,)


def test_prior_langevin_step_lowers_prior_energy() -> None:
    _, model, ebm = _setup()
    z = torch.randn(16, model.z_dim) * 2
    z1 = sample_prior(ebm, z, K0=1, delta_0=0.1, noise=False)
    assert (prior_energy(ebm, z1) < prior_energy(ebm, z)).all()


def test_posterior_langevin_step_lowers_posterior_energy() -> None:
    _cfg, model, ebm = _setup()
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    z = torch.randn(4, model.z_dim)
    U0 = posterior_energy(model, ebm, z, x, 0.25, 0.01).detach()
    z1 = sample_posterior(
        model, ebm, x, z, K1=1, delta_1=0.02, sigma=0.25, lam_tv=0.01, noise=False
    )
    U1 = posterior_energy(model, ebm, z1, x, 0.25, 0.01).detach()
    assert (U1 < U0).all()
    assert all(p.requires_grad for p in model.parameters())  # frozen() restored the flags
    assert all(p.grad is None for p in model.parameters())  # no parameter gradients accumulated


def test_noise_term_is_scaled_by_delta() -> None:
    _, model, ebm = _setup()
    z = torch.zeros(2000, model.z_dim)
    torch.manual_seed(1)
    a = sample_prior(ebm, z, 1, 0.4, noise=True)
    b = sample_prior(ebm, z, 1, 0.4, noise=False)
    assert abs((a - b).std().item() - 0.4) < 0.02


def test_frozen_restores_flags_on_error() -> None:
    lin = torch.nn.Linear(2, 2)
    lin.bias.requires_grad_(False)
    try:
        with frozen(lin):
            assert not lin.weight.requires_grad
            raise RuntimeError
    except RuntimeError:
        pass
    assert lin.weight.requires_grad and not lin.bias.requires_grad
