import math

import pytest
import torch
from damc.diffusion import (
    DiffusionAmortizer,
    MLPEncoder,
    diffuse,
    ema_copy,
    ema_update,
    logsnr_schedule,
    pred_z0_from_eps,
    reverse_step,
)
from damc.toy import mmd2


def test_logsnr_schedule_endpoints_and_monotone():
    u = torch.linspace(0, 1, 11)
    lam = logsnr_schedule(u, -5.1, 9.8)
    assert lam[0].item() == pytest.approx(9.8, abs=1e-4)
    assert lam[-1].item() == pytest.approx(-5.1, abs=1e-4)
    assert (lam[1:] < lam[:-1]).all()


def test_pred_z0_inverts_diffuse():
    z, eps = torch.randn(16, 3), torch.randn(16, 3)
    lam = torch.linspace(-5, 9, 16)[:, None]
    assert torch.allclose(pred_z0_from_eps(diffuse(z, lam, eps), eps, lam), z, atol=1e-3)


def test_reverse_step_is_the_gaussian_posterior():
    # q(z_s | z_t, z0) for the VP process: check mean and "large" variance analytically
    lam_s, lam_t = torch.tensor([[2.0]]), torch.tensor([[0.5]])
    a_s, a_t = torch.sigmoid(lam_s).sqrt(), torch.sigmoid(lam_t).sqrt()
    s_s2, s_t2 = torch.sigmoid(-lam_s), torch.sigmoid(-lam_t)
    a_ts = a_t / a_s
    s_ts2 = s_t2 - a_ts**2 * s_s2
    z0, zt = torch.tensor([[0.7]]), torch.tensor([[-0.3]])
    mean_ref = a_ts * s_s2 / s_t2 * zt + a_s * s_ts2 / s_t2 * z0
    mean, std = reverse_step(z0, zt, lam_s, lam_t, "large")
    assert torch.allclose(mean, mean_ref, atol=1e-6)
    r = math.exp(0.5 - 2.0)
    assert std.item() ** 2 == pytest.approx((1 - r) * s_t2.item(), rel=1e-5)
    _, std_small = reverse_step(z0, zt, lam_s, lam_t, "small")
    assert std_small.item() ** 2 == pytest.approx((s_ts2 * s_s2 / s_t2).item(), rel=1e-4)


def _q(n_steps=30, hidden=32):
    return DiffusionAmortizer(
        MLPEncoder(2, 16, 32), nz=2, nxemb=16, ntemb=16, hidden=hidden, n_steps=n_steps
    )


def test_diffusion_sampler_matches_a_known_2d_density():
    """Unconditional q_φ(z) fitted to a 2-component Gaussian mixture reproduces it."""
    torch.manual_seed(0)
    means = torch.tensor([[-1.5, 0.5], [1.5, -0.5]])

    def data(n):
        return means[torch.randint(0, 2, (n,))] + 0.3 * torch.randn(n, 2)

    Q = _q()
    opt = torch.optim.Adam(Q.parameters(), lr=2e-3)
    for _ in range(400):
        opt.zero_grad()
        Q.loss(data(256)).mean().backward()
        opt.step()
    z = Q.sample(n=1000)
    ref = data(1000)
    assert mmd2(z, ref) < 0.2 * mmd2(torch.randn(1000, 2), ref)
    assert (z[:, 0] > 0).float().mean().item() == pytest.approx(0.5, abs=0.1)


def test_mask_zero_drops_the_condition():
    torch.manual_seed(0)
    Q = _q(n_steps=4)
    z, x = torch.randn(8, 2), torch.randn(8, 2)
    Q.loss(z, x, torch.zeros(8, 1)).sum().backward()
    enc_grad = sum(p.grad.abs().sum() for p in Q.encoder.parameters() if p.grad is not None)
    assert float(enc_grad) == 0.0
    assert Q.sample(x).shape == (8, 2) and Q.sample(n=5).shape == (5, 2)


def test_ema_update():
    Q = _q(n_steps=4)
    T = ema_copy(Q)
    with torch.no_grad():
        for p in Q.parameters():
            p.add_(1.0)
    before = [p.clone() for p in T.parameters()]
    ema_update(T, Q, 0.25)
    for b, t, q in zip(before, T.parameters(), Q.parameters(), strict=True):
        assert torch.allclose(t, 0.75 * b + 0.25 * q)
    assert not any(p.requires_grad for p in T.parameters())
