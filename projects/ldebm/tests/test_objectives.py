"""Training pairs, per-level contrastive loss, information bottleneck, pseudo-label CE."""

import math

import pytest
import torch
from ldebm import objectives as obj
from ldebm.schedule import make_schedule
from torch import nn

SCHED = make_schedule(6, 2e-3)


def test_training_pairs_random_levels_then_the_top_pair():
    torch.manual_seed(0)
    z = torch.zeros(4000, 2)
    p = obj.training_pairs(SCHED, z)
    assert p.x_pos.shape == (8000, 2)
    assert set(p.t[:4000].tolist()) == {0, 1, 2, 3, 4}
    assert (p.t[4000:] == 5).all()
    # z = 0: x_pos ~ N(0, σ̄_t²) and x_neg − a_{t+1} x_pos ~ N(0, σ_{t+1}²)
    top = p.t == 5
    assert p.x_pos[top].std().item() == pytest.approx(SCHED.sigmas_cum[5].item(), rel=0.05)
    resid = p.x_neg[top] - SCHED.a_s[6] * p.x_pos[top]
    assert resid.std().item() == pytest.approx(SCHED.sigmas[6].item(), rel=0.05)


def test_contrastive_loss_weights_levels_by_sigma1_over_sigma_t_plus_1():
    class Lin(nn.Module):
        def forward(self, y, t):
            return y[:, :1]  # f = y₁

    x_pos = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    x_hat = torch.zeros(2, 2)
    t = torch.tensor([2, 5])
    loss = obj.contrastive_loss(Lin(), SCHED, x_pos, x_hat, t)
    w = SCHED.sigmas[1] / SCHED.sigmas[t + 1]
    a = SCHED.a_s_prev[t + 1]
    torch.testing.assert_close(loss, -(a * w).sum())


def test_mutual_information_bounds():
    K = 8
    confident = torch.eye(K).repeat(4, 1) * 50.0  # each z sure of its own balanced symbol
    assert obj.mutual_information(confident).item() == pytest.approx(math.log(K), abs=1e-4)
    assert obj.mutual_information(torch.zeros(32, K)).item() == pytest.approx(0.0, abs=1e-6)


def test_pseudo_label_ce_and_z0_input():
    logits = torch.tensor([[10.0, 0.0], [0.0, 10.0]])
    assert obj.pseudo_label_ce(logits, torch.tensor([0, 1])).item() < 1e-3
    assert obj.pseudo_label_ce(logits, torch.tensor([1, 0])).item() > 9
    torch.manual_seed(0)
    z = torch.ones(5000, 2)
    z0 = obj.z0_input(SCHED, z)
    expected = (SCHED.a_s_cum[0] * SCHED.a_s_prev[1]).item()
    assert z0.mean().item() == pytest.approx(expected, abs=1e-3)


def test_svebm_loss_pushes_data_up_and_negatives_down():
    lin = nn.Linear(2, 3)
    z_pos, z_neg = torch.randn(16, 2), torch.randn(16, 2)
    loss = obj.svebm_loss(lin, z_pos, z_neg, mi_weight=0.0)
    f = torch.logsumexp
    expected = -f(lin(z_pos), -1).mean() + f(lin(z_neg), -1).mean()
    torch.testing.assert_close(loss, expected)
