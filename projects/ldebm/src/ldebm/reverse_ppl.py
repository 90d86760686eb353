"""Reverse perplexity (the paper's rPPL on PTB, after Zhao et al. 2018): sample sentences from
the model (z from LDEBM's progressive ancestral sampling, then greedy decoding, as the official
``sampling``), train a language model on those samples only, and report its perplexity on real
test text. Low rPPL needs samples that are both fluent and diverse. The official repository
writes the samples but not the language model; this GRU language model (the decoder's sizes,
tied output embedding) is this project's choice (README, Deviations).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ldebm.corpus import PAD, Vocab
from ldebm.langevin import progressive_levels
from ldebm.text_learning import TextLearner


class LanguageModel(nn.Module):
    """GRU language model p(w_i | w_{<i}) with a tied output embedding."""

    def __init__(self, vocab: int, emb: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.rnn = nn.GRU(emb, hidden, batch_first=True)
        self.to_emb = nn.Linear(hidden, emb)

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        """Summed −log p of the targets x[:, 1:] (pads ignored), a scalar."""
        out, _ = self.rnn(self.embed(x[:, :-1]))
        logits = self.to_emb(out) @ self.embed.weight.T
        return F.cross_entropy(logits.transpose(1, 2), x[:, 1:], ignore_index=PAD, reduction="sum")


@torch.no_grad()
def sample_sentences(lrn: TextLearner, vocab: Vocab, n: int, max_len: int, batch: int = 500):
    """``n`` sentences (word lists) from the model: z ~ LDEBM prior, greedy decoding."""
    lrn.vae.eval()
    out = []
    for i in range(0, n, batch):
        noise = torch.randn(min(batch, n - i), lrn.mc.latent)
        with torch.enable_grad():  # Langevin needs ∇_z f
            z = progressive_levels(lrn.ebm, lrn.sched, noise, lrn.mc.langevin_steps)[-1]
        out += vocab.decode(lrn.vae.greedy(z, max_len))
    lrn.vae.train()
    return out


def train_lm(
    x: torch.Tensor,
    vocab: int,
    emb: int,
    hidden: int,
    epochs: int,
    batch: int,
    seed: int,
    max_steps: int = 0,
) -> LanguageModel:
    """Adam (1e-3, clip 0.5) on the id matrix ``x`` for ``epochs`` (``max_steps`` per epoch if
    > 0); batches depend only on (seed, epoch)."""
    lm = LanguageModel(vocab, emb, hidden)
    opt = torch.optim.Adam(lm.parameters(), lr=1e-3)
    for epoch in range(epochs):
        order = np.random.default_rng([seed, 11, epoch]).permutation(len(x))
        steps = [order[i : i + batch] for i in range(0, len(x), batch)][: max_steps or None]
        for b in steps:
            xb = x[b]
            loss = lm.nll(xb) / max(int((xb[:, 1:] != PAD).sum()), 1)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(lm.parameters(), 0.5)
            opt.step()
    return lm


@torch.no_grad()
def perplexity(lm: LanguageModel, x: torch.Tensor, batch: int = 256) -> float:
    """exp(−log p(x) per target token) on the id matrix ``x``."""
    lm.eval()
    total = sum(float(lm.nll(x[i : i + batch])) for i in range(0, len(x), batch))
    lm.train()
    return math.exp(total / int((x[:, 1:] != PAD).sum()))


def reverse_ppl(
    lrn: TextLearner,
    vocab: Vocab,
    x_test: torch.Tensor,
    n_samples: int,
    epochs: int,
    seed: int,
    max_steps: int = 0,
) -> float:
    """rPPL: perplexity on the real ``x_test`` of a language model trained on ``n_samples``
    model samples (same vocabulary and length limit as the model)."""
    mc = lrn.mc
    samples = sample_sentences(lrn, vocab, n_samples, mc.max_len)
    x_gen = vocab.encode(samples, mc.max_len)
    lm = train_lm(x_gen, len(vocab), mc.emb, mc.hidden, epochs, mc.batch_size, seed, max_steps)
    return perplexity(lm, x_test)
