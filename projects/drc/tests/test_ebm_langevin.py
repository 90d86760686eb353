"""The latent EBM and the Langevin samplers: a step lowers the energy it targets."""

from __future__ import annotations

import torch
from drc.configs import smoke
from drc.ebm import LatentEBM
from drc.evaluate import infer_test, trend_steps
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


def test_trend_steps_are_fractions_of_the_test_chain() -> None:
    assert trend_steps(800) == (100, 200, 400, 800)
    assert trend_steps(3) == (1, 3)
    assert trend_steps(1) == (1,)


def test_test_chain_scored_along_the_way_is_the_uninterrupted_chain() -> None:
    """infer_test scores pi_f after n/8, n/4, n/2 steps of the same chains: z is unchanged."""
    cfg, model, ebm = _setup()
    cfg.langevin.infer_test = 6
    x = torch.rand(5, 3, 16, 16) * 2 - 1
    torch.manual_seed(1)
    z, rend = infer_test(model, ebm, x, cfg.langevin, cfg.loss, 3, torch.Generator().manual_seed(2))
    assert sorted(k for k in rend if "@" in k) == ["pi_f@1", "pi_f@3", "pi_f@6"]
    assert (rend["pi_f@6"] == rend["pi_f"]).all() and not (rend["pi_f@1"] == rend["pi_f"]).all()
    torch.manual_seed(1)
    g, lc = torch.Generator().manual_seed(2), cfg.langevin
    ref = []
    for i in (0, 3):  # the same batches of 3, one uninterrupted chain of 6 steps each
        z0 = torch.randn(len(x[i : i + 3]), model.z_dim, generator=g)
        ref.append(sample_posterior(model, ebm, x[i : i + 3], z0, 6, lc.delta_1, lc.sigma, 0.01))
    assert torch.equal(z, torch.cat(ref))
