"""The text VAE and its priors' terms: reconstruction, free bits, the LDEBM ELBO prior term
(EBM frozen, gradients to the encoder), the joint loss, and the level-0 split network."""

from __future__ import annotations

import torch
from ldebm import objectives as obj
from ldebm import text_learning as tl
from ldebm.elbo import free_bits, gaussian_kl, ldebm_prior_kl
from ldebm.energy import LevelSplitEBM
from ldebm.schedule import make_schedule
from ldebm.text_configs import TextModelConfig
from ldebm.text_vae import TextVAE

MC = TextModelConfig(
    vocab_size=30,
    emb=8,
    hidden=8,
    latent=4,
    ebm_hidden=8,
    n_blocks=1,
    n_classes=3,
    langevin_steps=2,
)


def _batch(n: int = 6) -> torch.Tensor:
    torch.manual_seed(0)
    x = torch.randint(4, 30, (n, 7))
    x[:, 0], x[:, -1], x[0, 4:] = 1, 2, 0  # <s> … </s>, one padded sentence
    return x


def test_reconstruction_scores_only_real_tokens():
    vae = TextVAE(30, 8, 8, 4, 0.0)
    x = _batch()
    nll, correct = vae.reconstruction(x, torch.zeros(len(x), 4))
    assert nll.shape == (6,) and torch.isfinite(nll).all()
    assert not correct[0, 3:].any()  # targets after the padding never count
    assert nll[0] < nll[1]  # fewer tokens, smaller summed NLL (same uniform-ish decoder)


def test_free_bits_drop_dimensions_at_or_below_the_target():
    per_dim = torch.tensor([[0.5, 2.0, 3.0]])
    assert float(free_bits(per_dim, 1.0)) == 5.0
    assert float(gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3), 0.0)) == 0.0


def test_ldebm_prior_term_trains_the_encoder_not_the_ebm():
    lrn = tl.build("ldebm", MC, 30)
    z = torch.randn(5, 4, requires_grad=True)
    logvar = torch.full((5, 4), -4.0, requires_grad=True)  # entropy term above the free bits
    pairs = obj.training_pairs(lrn.sched, z)
    ldebm_prior_kl(lrn.ebm, lrn.sched, pairs, logvar, 1.0).backward()
    assert z.grad.abs().sum() > 0 and logvar.grad.abs().sum() > 0
    assert all(p.grad is None for p in lrn.ebm.parameters())
    assert all(p.requires_grad for p in lrn.ebm.parameters())  # unfrozen afterwards


def test_joint_loss_reaches_encoder_decoder_and_ebm():
    lrn = tl.build("ldebm", MC, 30)
    x = _batch()
    tl.ldebm_text_loss(lrn, x, torch.tensor([0, 1, 2, 0, 1, 2])).backward()
    for net in (lrn.vae.encoder, lrn.vae.decoder, lrn.ebm):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_level_split_network_routes_level_zero_to_its_own_net():
    ebm = LevelSplitEBM(dim=2, hidden=8, n_classes=3, n_blocks=1, T=6, emb_dim=8).eval()
    z, t = torch.randn(4, 2), torch.tensor([0, 2, 0, 5])
    out = ebm(z, t)
    assert torch.allclose(out[[0, 2]], ebm.level0(z[[0, 2]], t[[0, 2]]))
    assert torch.allclose(out[[1, 3]], ebm.upper(z[[1, 3]], t[[1, 3]]))


def test_vae_epoch_permutes_and_ldebm_epoch_balances_pseudo_labels():
    x = torch.cat([_batch(6)] * 5)
    vae = tl.build("vae", MC, 30)
    order, labels = tl.epoch_order(vae, x, seed=0, epoch=0)
    assert labels is None and sorted(order.tolist()) == list(range(30))
    lrn = tl.build("ldebm", MC, 30)
    order, labels = tl.epoch_order(lrn, x, seed=0, epoch=0)
    assert len(order) == 30 and len(set(labels.tolist())) >= 1
    make_schedule(6, 2e-3)
