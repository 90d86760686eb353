"""EM objective and regularisers against literal transcriptions of the official formulas."""

from __future__ import annotations

import torch
from drc.configs import LossConfig, smoke
from drc.ebm import LatentEBM
from drc.model import DRC
from drc.objectives import (
    ebm_loss,
    expected_complete_log_lik,
    generator_loss,
    orthogonality,
    pseudo_label_ce,
    responsibilities,
    tv,
)


def _render():
    cfg = smoke()
    model = DRC(cfg.model, cfg.data.image_size)
    return model, model.render(torch.randn(2, model.z_dim)), torch.rand(2, 3, 16, 16) * 2 - 1


def test_responsibilities_match_the_naive_formula() -> None:
    lpf, lpb = torch.randn(4, 3, 5, 5), torch.randn(4, 3, 5, 5)
    pi_f = torch.rand(4, 1, 5, 5)
    g = responsibilities(pi_f.log(), (1 - pi_f).log(), lpf, lpb)
    naive = pi_f * lpf.exp() / (pi_f * lpf.exp() + (1 - pi_f) * lpb.exp())
    torch.testing.assert_close(g, naive)
    assert not g.requires_grad


def test_Q_matches_literal_transcription() -> None:
    _, r, x = _render()
    sigma = 0.5  # the official +1e-8 in gamma's denominator is negligible at this sigma
    pf, pb = r.pi_f, r.log_pi_b.exp()
    lpf = -(r.x_f - x).abs() / (2 * sigma**2)
    lpb = -(r.x_bw - x).abs() / (2 * sigma**2)
    ga = pf * lpf.exp() / (pf * lpf.exp() + pb * lpb.exp() + 1e-8)
    ref = ga * ((pf + 1e-8).log() + lpf) + (1 - ga) * ((pb + 1e-8).log() + lpb)
    torch.testing.assert_close(expected_complete_log_lik(r, x, sigma), ref, atol=1e-4, rtol=1e-4)


def test_Q_gradient_does_not_flow_through_gamma() -> None:
    _, r, x = _render()
    Q = expected_complete_log_lik(r, x, 0.25).sum()
    gf = torch.autograd.grad(Q, r.x_f, retain_graph=True)[0]
    lpf = -(r.x_f - x).abs() / (2 * 0.25**2)
    g = responsibilities(r.log_pi_f, r.log_pi_b, lpf, -(r.x_bw - x).abs() / (2 * 0.25**2))
    expected = g * -torch.sign(r.x_f - x) / (2 * 0.25**2)
    torch.testing.assert_close(gf, expected, atol=1e-4, rtol=1e-4)


def test_tv_and_orthogonality() -> None:
    assert tv(torch.ones(2, 3, 4, 4)).abs().max() == 0
    x = torch.zeros(1, 1, 3, 3)
    x[..., 1, 1] = 1.0
    assert tv(x).item() == 4.0
    conv = torch.nn.Conv2d(4, 3, 1, bias=False)
    torch.nn.init.orthogonal_(conv.weight)
    assert orthogonality(conv).item() < 1e-10
    with torch.no_grad():
        conv.weight.fill_(1.0)
    assert orthogonality(conv).item() == 6 * 16  # 6 off-diagonal entries of value 4


def test_pseudo_label_ce_and_ebm_loss() -> None:
    s, e = torch.randn(3, 5), torch.randn(3, 5)
    ref = -(s.softmax(1) * e.log_softmax(1)).sum(1)
    torch.testing.assert_close(pseudo_label_ce(s, e), ref)
    assert ebm_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])).item() == 2.0


def test_regulariser_switches_change_the_loss() -> None:
    cfg = smoke()
    model = DRC(cfg.model, cfg.data.image_size)
    ebm = LatentEBM(cfg.model, model.zs_dim)
    z, x = torch.randn(2, model.z_dim), torch.rand(2, 3, 16, 16) * 2 - 1
    r, f, b = model(z)
    sf, sb = ebm.symbol_logits(z)
    mods = (model.fg_net, model.bg_net)
    full, terms = generator_loss(r, x, f, b, sf, sb, mods, LossConfig())
    off, terms0 = generator_loss(r, x, f, b, sf, sb, mods, LossConfig(tv=0, ce=0, orth=0))
    assert set(terms) == {"Q", "tv", "ce_f", "ce_b", "orth"} and set(terms0) == {"Q"}
    torch.testing.assert_close(off, -expected_complete_log_lik(r, x, None).mean())
    expect = off + 0.01 * terms["tv"] + 0.1 * (terms["ce_f"] + terms["ce_b"]) + 0.1 * terms["orth"]
    torch.testing.assert_close(full, torch.as_tensor(expect), atol=1e-5, rtol=1e-5)
