"""Backbone: sliding-window mask, causality, incremental == full forward, UNet prior, heads."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_lpt
from lpt.model import (
    BehaviourCloning,
    DecisionTransformer,
    banded_attention,
    sliding_window_mask,
)
from lpt.unet import UNet1D


def test_sliding_window_mask():
    m = sliding_window_mask(6, 3)
    assert m[5].tolist() == [False, False, False, True, True, True]
    assert m[0].tolist() == [True] + [False] * 5
    assert not m.triu(1).any()


@pytest.mark.parametrize(("L", "W"), [(20, 6), (18, 6), (5, 8), (33, 32)])
def test_banded_attention_equals_masked_sdpa(L, W):
    q, k, v = torch.randn(3, 2, 2, L, 4).unbind(0)
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=sliding_window_mask(L, W))
    assert torch.allclose(banded_attention(q, k, v, W), want, atol=1e-5)


def test_action_at_t_ignores_future_and_far_past(batch):
    """With 2 layers and window 6 tokens, a_t depends on at most 2*5 earlier tokens, never later."""
    model = tiny_lpt().eval()
    z = torch.randn(3, 4, 16)
    S, A = batch["states"], batch["actions"]
    base = model.predict_actions(S, A, z=z)
    S2, A2 = S.clone(), A.clone()
    S2[:, 6:] += 5.0
    A2[:, 5:] += 1.0  # a_5 is the target at s_5, so it must not affect step 5
    out = model.predict_actions(S2, A2, z=z)
    assert torch.allclose(out[:, :6], base[:, :6], atol=1e-6)
    assert not torch.allclose(out[:, 6:], base[:, 6:])
    S3 = S.clone()
    S3[:, 0] += 5.0  # token 0 is 18 tokens before s_9: beyond the 2 x 5 receptive field
    assert torch.allclose(model.predict_actions(S3, A, z=z)[:, 9], base[:, 9], atol=1e-6)


def test_z_changes_actions(batch):
    model = tiny_lpt().eval()
    a1 = model.predict_actions(batch["states"], batch["actions"], z=torch.randn(3, 4, 16))
    a2 = model.predict_actions(batch["states"], batch["actions"], z=torch.randn(3, 4, 16))
    assert not torch.allclose(a1, a2)


def _incremental(model, S, A, y=None, z=None):
    outs, cache = [], None
    for t in range(S.shape[1]):
        pre = model.pre_tokens(S[:, t : t + 1], y)
        cache = cache or model.transformer.empty_cache(pre[0])
        for tok in pre:
            x, cache = model.transformer.step(model.embed_ln(tok), z, cache)
        outs.append(model.head(x))
        tok = model.embed_ln(model.embed_action(A[:, t : t + 1]))
        _, cache = model.transformer.step(tok, z, cache)
    return torch.cat(outs, 1)


def test_incremental_rollout_equals_full_forward(batch):
    S, A = batch["states"], batch["actions"]
    lpt = tiny_lpt().eval()
    z = torch.randn(3, 4, 16)
    assert torch.allclose(_incremental(lpt, S, A, z=z), lpt.predict_actions(S, A, z=z), atol=1e-5)
    torch.manual_seed(0)
    dt = DecisionTransformer(4, 2, 16, 2, 2, 9, 0.0).eval()
    y = batch["y"]
    assert torch.allclose(_incremental(dt, S, A, y=y), dt.predict_actions(S, A, y=y), atol=1e-5)
    bc = BehaviourCloning(4, 2, 16, 2, 2, 6, 0.0, cross=False).eval()
    assert torch.allclose(_incremental(bc, S, A), bc.predict_actions(S, A), atol=1e-5)


def test_dt_conditions_on_return(batch):
    torch.manual_seed(0)
    dt = DecisionTransformer(4, 2, 16, 1, 2, 9, 0.0).eval()
    S, A = batch["states"], batch["actions"]
    assert not torch.allclose(
        dt.predict_actions(S, A, y=batch["y"]), dt.predict_actions(S, A, y=batch["y"] + 1)
    )


def test_unet_prior_shapes_and_gradients():
    unet = UNet1D(8, (1, 2, 4))
    z0 = torch.randn(2, 1, 64, requires_grad=True)
    z = unet(z0)
    assert z.shape == z0.shape
    z.sum().backward()
    assert z0.grad.abs().sum() > 0
    assert all(p.grad is not None for p in unet.parameters())


def test_prior_identity_without_unet():
    model = tiny_lpt(use_unet=False)
    z0 = torch.randn(2, 4, 16)
    assert torch.equal(model.prior(z0), z0)
    assert not torch.allclose(tiny_lpt().prior(z0), z0)


def test_losses_reach_every_parameter(batch):
    model = tiny_lpt(dropout=0.1).train()
    out = model(batch, torch.randn(3, 4, 16))
    (out["action_mse"] + 0.25 * out["return_mse"]).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_categorical_likelihood_is_cross_entropy(discrete_batch):
    """Connect Four: −log π(a_t) under softmax(head), summed over unmasked steps."""
    model = tiny_lpt(discrete=True, act_dim=7).eval()
    z = torch.randn(3, 4, 16)
    b = discrete_batch
    logits = model.predict_actions(b["states"], b["actions"], z=z)
    want = F.cross_entropy(logits.transpose(1, 2), b["actions"].argmax(-1), reduction="none")
    want = (want * b["mask"]).sum(-1)
    got = model.action_error(b["states"], b["actions"], b["mask"], z=z)
    assert torch.allclose(got, want, atol=1e-5)
    # σ_a² only scales the Gaussian likelihood; the categorical NLL is exact
    nll = model.action_nll(b["states"], b["actions"], b["mask"], sigma_a2=0.01, z=z)
    assert torch.allclose(nll, got)
    assert model.action_loss_name == "action_ce"


def test_incremental_equals_full_forward_discrete(discrete_batch):
    model = tiny_lpt(discrete=True, act_dim=7).eval()
    S, A, z = discrete_batch["states"], discrete_batch["actions"], torch.randn(3, 4, 16)
    assert torch.allclose(
        _incremental(model, S, A, z=z), model.predict_actions(S, A, z=z), atol=1e-5
    )


def test_decide_plays_most_likely_legal_action():
    model = tiny_lpt(discrete=True, act_dim=7)
    pred = torch.tensor([[0.0, 5.0, 1.0, 0, 0, 0, 0], [9.0, 0, 0, 0, 0, 0, 2.0]])
    legal = torch.ones(2, 7, dtype=torch.bool)
    legal[1, 0] = False  # column 0 is full in game 1
    a = model.decide(pred, legal)
    assert a.argmax(-1).tolist() == [1, 6] and torch.equal(a.sum(-1), torch.ones(2))
    assert torch.equal(tiny_lpt().decide(pred[:, :2]), pred[:, :2])  # Gaussian: the mean


def test_sampled_moves_are_legal_and_follow_pi():
    """With a generator, actions are drawn from π restricted to the legal columns."""
    model = tiny_lpt(discrete=True, act_dim=7)
    pred = torch.log(torch.tensor([[0.5, 0.3, 0.2, 0, 0, 0, 0]]) + 1e-9).expand(4000, 7)
    legal = torch.ones(4000, 7, dtype=torch.bool)
    legal[:, 0] = False  # the most likely column is full
    a = model.decide(pred, legal, torch.Generator().manual_seed(0)).argmax(-1)
    freq = torch.bincount(a, minlength=7).float() / 4000
    assert freq[0] == 0 and abs(freq[1] - 0.6) < 0.03 and abs(freq[2] - 0.4) < 0.03
