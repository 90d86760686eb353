"""The variational text model (official ``text_generation.py`` / ``dgmvae``): an amortised
Gaussian encoder q(z|x) (bidirectional GRU), an autoregressive GRU decoder p(x|z) whose initial
state is a linear map of z (``dec_init_connector``), with z also concatenated to every input
(``concat_decoder_input``) and a tied output embedding. The ELBO terms of its two priors are in
``ldebm.elbo``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ldebm.corpus import BOS, EOS, PAD


class TextVAE(nn.Module):
    """Bi-GRU encoder → (μ, log σ²); GRU decoder from h_0 = W z on [embedding(w_{<i}); z] →
    tied logits."""

    def __init__(self, vocab: int, emb: int, hidden: int, latent: int, dropout: float) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=PAD)
        self.encoder = nn.GRU(emb, hidden, batch_first=True, bidirectional=True)
        self.to_mu = nn.Linear(2 * hidden, latent)
        self.to_logvar = nn.Linear(2 * hidden, latent)
        self.init_state = nn.Linear(latent, hidden)
        self.decoder = nn.GRU(emb + latent, hidden, batch_first=True)
        self.to_emb = nn.Linear(hidden, emb)  # then the tied output embedding
        self.drop = nn.Dropout(dropout)
        for p in self.parameters():  # official ``get_model``: U(−0.1, 0.1) everywhere
            nn.init.uniform_(p, -0.1, 0.1)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z|x) = N(μ, diag σ²) from the final states of both GRU directions; x (B, L) ids."""
        lengths = (x != PAD).sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(
            self.drop(self.embed(x)), lengths, batch_first=True, enforce_sorted=False
        )
        _, h = self.encoder(packed)  # (2, B, H)
        h = torch.cat([h[0], h[1]], dim=-1)
        return self.to_mu(h), self.to_logvar(h)

    def logits(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Next-token logits (B, L−1, V) for the targets x[:, 1:], teacher-forced on x[:, :-1]."""
        inp = self.drop(self.embed(x[:, :-1]))
        zz = z[:, None, :].expand(-1, inp.shape[1], -1)
        out, _ = self.decoder(torch.cat([inp, zz], dim=-1), self.init_state(z)[None])
        return self.to_emb(self.drop(out)) @ self.embed.weight.T

    def reconstruction(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """−log p(x|z) per sentence (B,) and per-token correctness (B, L−1) with the pad mask."""
        logits, target = self.logits(x, z), x[:, 1:]
        nll = F.cross_entropy(logits.transpose(1, 2), target, ignore_index=PAD, reduction="none")
        correct = (logits.argmax(-1) == target) & (target != PAD)
        return nll.sum(1), correct

    @torch.no_grad()
    def greedy(self, z: torch.Tensor, max_len: int) -> torch.Tensor:
        """Free-running greedy decoding from z (official ``GEN`` mode, ``gen_type="greedy"``):
        ids (B, max_len) of the words after <s>, </s> and what follows it set to PAD."""
        h = self.init_state(z)[None]
        word = torch.full((len(z),), BOS, dtype=torch.long)
        out, done = [], torch.zeros(len(z), dtype=torch.bool)
        for _ in range(max_len):
            inp = torch.cat([self.embed(word), z], dim=-1)[:, None]
            step, h = self.decoder(inp, h)
            word = (self.to_emb(step[:, 0]) @ self.embed.weight.T).argmax(-1)
            done = done | (word == EOS)
            out.append(torch.where(done, PAD, word))
        return torch.stack(out, 1)
