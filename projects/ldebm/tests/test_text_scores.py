"""The text scores on known cases: corpus BLEU-4 (identical / disjoint corpora, a hand-computed
case), the importance-sampled marginal NLL on a linear-Gaussian model with a tractable marginal,
the diffusion-bound prior density on the exact conditionals of a 2-D GMM, greedy decoding, and
the reverse-perplexity language model."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from ldebm import marginal_nll as mn
from ldebm import reverse_ppl as rp
from ldebm.bleu import corpus_bleu
from ldebm.corpus import EOS, PAD, Vocab
from ldebm.evaluate import LevelMix, exact_levels
from ldebm.schedule import make_schedule
from ldebm.target import grid16
from ldebm.text_vae import TextVAE
from torch import nn

CORPUS = [
    ["the", "cat", "sat", "on", "the", "mat", "today"],
    ["a", "dog", "barked", "at", "the", "postman", "in", "the", "morning"],
]


def test_bleu_of_identical_corpora_is_100_and_of_disjoint_ones_0():
    assert corpus_bleu(CORPUS, CORPUS) == pytest.approx(100.0)
    other = [["x"] * len(s) for s in CORPUS]
    assert corpus_bleu(other, CORPUS) == 0.0


def test_bleu_matches_a_hand_computed_case():
    hyp, ref = [["a", "b", "c", "d", "e", "f"]], [["a", "b", "c", "d", "x", "f", "g", "h"]]
    # matches/totals: 1-grams 5/6, 2-grams 3/5, 3-grams 2/4, 4-grams 1/3; BP exp(1 − 8/6)
    expected = 100 * math.exp(math.log(5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) / 4 + (1 - 8 / 6))
    assert corpus_bleu(hyp, ref) == pytest.approx(expected)


def test_bleu_clips_repeated_words():
    hyp, ref = [["the"] * 7], [["the", "cat", "is", "on", "the", "mat"]]
    assert corpus_bleu(hyp, ref, max_n=1) == pytest.approx(100 * 2 / 7)


class LinearGaussian(nn.Module):
    """z ~ N(0, I_2), x | z ~ N(W z, s² I_3): p(x) = N(0, W Wᵀ + s² I), tractable; the
    posterior (``posterior``) may be exact or deliberately too wide."""

    def __init__(self, widen: float) -> None:
        super().__init__()
        self.W, self.s2, self.widen = (
            torch.tensor([[1.0, 0.5], [-0.3, 0.8], [0.2, -1.0]]),
            0.3,
            widen,
        )

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        prec = torch.eye(2) + self.W.T @ self.W / self.s2
        cov = torch.linalg.inv(prec)
        mu = (x[:, 1:] @ self.W / self.s2) @ cov
        var = torch.diagonal(cov) * self.widen
        return mu, var.log().expand_as(mu)

    def reconstruction(self, x: torch.Tensor, z: torch.Tensor):
        return -mn.log_normal(x[:, 1:], z @ self.W.T, self.s2), None


def _exact_nll(model: LinearGaussian, x: torch.Tensor) -> float:
    cov = model.W @ model.W.T + model.s2 * torch.eye(3)
    dist = torch.distributions.MultivariateNormal(torch.zeros(3), cov)
    return float(-dist.log_prob(x[:, 1:]).mean())


def test_importance_sampled_nll_recovers_a_tractable_marginal():
    torch.manual_seed(0)
    x = torch.cat([torch.ones(50, 1), torch.randn(50, 3) * 1.5], 1)  # column 0: a "<s>" slot
    exact = LinearGaussian(1.0)
    assert mn.importance_nll(exact, x, mn.gaussian_log_prior, 1)[0] == pytest.approx(
        _exact_nll(exact, x), abs=0.01
    )  # (nearly) the exact posterior: one sample is already exact
    wide = LinearGaussian(2.0)
    elbo = mn.importance_nll(wide, x.repeat(20, 1), mn.gaussian_log_prior, 1)[0]
    assert elbo > _exact_nll(wide, x) + 0.1  # a too-wide proposal: one sample is the ELBO ...
    many = mn.importance_nll(wide, x, mn.gaussian_log_prior, 2000)[0]
    assert many == pytest.approx(_exact_nll(wide, x), abs=0.02)  # ... many close the gap


def test_diffusion_bound_prior_density_matches_the_exact_gmm_density():
    torch.manual_seed(0)
    target, sched = grid16(), make_schedule(6, 2e-3)
    q0 = target.diffused(float(sched.a_s_cum[0]), float(sched.sigmas_cum[0]))
    z, _ = q0.sample(400, np.random.default_rng(0))
    est = mn.ldebm_log_prior(
        LevelMix(None, exact_levels(target, sched, range(6))), sched, torch.from_numpy(z), 256
    )
    exact = q0.log_density(z.astype(np.float64))
    assert float(est.mean()) == pytest.approx(float(exact.mean()), abs=0.05)
    # a wrong prior (the exact energy of another target) scores the data lower
    far = replace(target, centres=target.centres * 1.6)
    wrong = mn.ldebm_log_prior(
        LevelMix(None, exact_levels(far, sched, range(6))), sched, torch.from_numpy(z), 256
    )
    assert float(wrong.mean()) < float(est.mean()) - 0.5


def test_greedy_decoding_pads_after_the_end_token_and_decodes_to_words():
    torch.manual_seed(0)
    vae = TextVAE(12, 8, 8, 4, 0.0)
    v = torch.full((8,), 3.0)
    with torch.no_grad():  # logits = to_emb(h)·E: with to_emb ≡ v, </s> (E = ±v) wins or loses
        vae.to_emb.weight.zero_()
        vae.to_emb.bias.copy_(v)
        vae.embed.weight[EOS] = v
    assert (vae.greedy(torch.randn(5, 4), 6) == PAD).all()  # </s> first: nothing after it
    with torch.no_grad():
        vae.embed.weight[EOS] = -v
    ids = vae.greedy(torch.randn(5, 4), 6)
    assert ids.shape == (5, 6) and not (ids == EOS).any() and not (ids == PAD).any()
    vocab = Vocab(["<pad>", "<s>", "</s>", "<unk>", *"abcdefgh"])
    words = vocab.decode(torch.tensor([[1, 4, 5, EOS, 6], [4, PAD, 7, 8, 9]]))
    assert words == [["a", "b"], ["a"]]


def test_reverse_ppl_language_model_learns_its_samples():
    vocab = Vocab(["<pad>", "<s>", "</s>", "<unk>", *"abcd"])
    seen = vocab.encode([list("abcd")] * 64, 4)
    unseen = vocab.encode([list("dcba")] * 64, 4)
    lm = rp.train_lm(seen, len(vocab), 8, 8, epochs=100, batch=16, seed=0)
    assert rp.perplexity(lm, seen) < 1.2 < 10 < rp.perplexity(lm, unseen)
