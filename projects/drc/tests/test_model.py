"""Model: region competition, the warp (zero deformation = identity), the ablation."""

from __future__ import annotations

import pytest
import torch
from drc.configs import smoke
from drc.model import DRC, deform_grid, identity_grid, region_competition, warp


def test_region_competition_sums_to_one() -> None:
    m_f, m_b = torch.randn(2, 1, 8, 8) * 5, torch.randn(2, 1, 8, 8) * 5
    lf, lb = region_competition(m_f, m_b)
    torch.testing.assert_close(lf.exp() + lb.exp(), torch.ones(2, 1, 8, 8))
    torch.testing.assert_close(lf.exp(), torch.sigmoid(m_f - m_b))


def test_zero_deformation_is_identity() -> None:
    img = torch.randn(2, 3, 16, 12)
    torch.testing.assert_close(warp(img, identity_grid(2, 16, 12)), img, atol=1e-5, rtol=0)
    shifted = identity_grid(2, 16, 12).clone()
    shifted[..., 0] += 2 / 12  # one pixel to the right
    out = warp(img, shifted)
    torch.testing.assert_close(out[..., :-1], img[..., 1:], atol=1e-5, rtol=0)
    g0 = deform_grid(torch.zeros(2, 16, 12, 2))
    torch.testing.assert_close(g0, identity_grid(2, 16, 12), atol=1e-6, rtol=0)
    assert deform_grid(torch.randn(2, 16, 12, 2) * 10).abs().max() <= 1  # stays on the canvas


def test_model_zero_offset_gives_unwarped_background() -> None:
    cfg = smoke()
    model = DRC(cfg.model, cfg.data.image_size)
    torch.nn.init.zeros_(model.sp_net.head.weight)
    torch.nn.init.zeros_(model.sp_net.head.bias)
    r = model.render(torch.randn(3, model.z_dim))
    torch.testing.assert_close(r.x_bw, r.x_b, atol=1e-5, rtol=0)
    assert r.x_f.shape == (3, 3, 16, 16) and r.m_f.shape == (3, 1, 16, 16)
    assert r.x_f.abs().max() <= 1
    torch.testing.assert_close(r.composite, r.pi_f * r.x_f + (1 - r.pi_f) * r.x_bw)


def test_ablation_has_no_warp_latent() -> None:
    cfg = smoke()
    cfg.model.reassign = False
    model = DRC(cfg.model, cfg.data.image_size)
    assert model.sp_net is None and model.z_dim == cfg.model.zf_dim + cfg.model.zb_dim
    r, f, b = model(torch.randn(2, model.z_dim))
    assert r.grid is None and r.x_bw is r.x_b
    assert f.shape == b.shape == (2, cfg.model.n_classes)


def test_image_size_must_match_decoder() -> None:
    cfg = smoke()
    with pytest.raises(ValueError, match=r"does not match model\.channels"):
        DRC(cfg.model, 32)


def test_instance_norm_is_configurable_per_decoder() -> None:
    """Without InstanceNorm a decoder can paint a flat colour that depends on its input.

    With it, a constant stem of any (positive) value is normalised to the same map (up to the
    norm's epsilon):
    the reason the background decoder drops it here (README, Deviations).
    """
    from drc.networks import decoder

    cfg = smoke()
    cfg.model.bg_instance_norm = False
    model = DRC(cfg.model, cfg.data.image_size)
    has_in = [
        any(isinstance(m, torch.nn.InstanceNorm2d) for m in net.decode.modules())
        for net in (model.fg_net, model.bg_net, model.sp_net)
    ]
    assert has_in == [True, False, True]  # the warp net keeps the official decoder
    for norm, same in ((True, True), (False, False)):
        dec = decoder((4, 4, 4), norm)
        a, b = dec(torch.full((1, 4, 4, 4), 0.5)), dec(torch.full((1, 4, 4, 4), 2.0))
        assert ((a - b).abs().max() < 0.01 * a.abs().max()).item() is same
