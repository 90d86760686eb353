"""The variational text model (official ``text_generation.py`` / ``dgmvae``): an amortised
Gaussian encoder q(z|x) (bidirectional GRU), an autoregressive GRU decoder p(x|z) whose initial
state is a linear map of z (``dec_init_connector``), with z also concatenated to every input
(``concat_decoder_input``) and a tied output embedding, and the ELBO terms of the two priors:
LDEBM's (paper eq. 10: the free-bits entropy of q and the diffused-positive energy terms of
``get_prior_loss``) and the Gaussian-prior VAE's KL(q ‖ N(0, I)) with the same free bits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ldebm.corpus import PAD
from ldebm.energy import marginal_energy
from ldebm.langevin import frozen
from ldebm.objectives import Pairs
from ldebm.schedule import Schedule


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


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = μ + σ·ε."""
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()


def free_bits(per_dim: torch.Tensor, target: float) -> torch.Tensor:
    """Official free-bits mask: a latent dimension counts only where its term exceeds
    ``dim_target_kl``; summed over dimensions, averaged over the batch."""
    return (per_dim * (per_dim > target).float()).sum(1).mean()


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor, target: float) -> torch.Tensor:
    """KL(q(z|x) ‖ N(0, I)) per dimension, through the free-bits mask (Gaussian-prior VAE)."""
    return free_bits(0.5 * (mu**2 + logvar.exp() - 1.0 - logvar), target)


def ldebm_prior_kl(
    ebm: nn.Module, sched: Schedule, pairs: Pairs, logvar: torch.Tensor, target: float
) -> torch.Tensor:
    """LDEBM's KL(q ‖ p_θ) up to the normaliser (official ``get_prior_loss`` + entropy, EBM
    frozen, gradients to the encoder through the diffused positives): the free-bits entropy term
    −½(1 + log σ²), minus σ_1/σ_{t+1}·f(a·z_t, t) at the random levels, minus the top level's
    scale·f(z_{T−1}, T−1), plus its N(0, I) reference scale·½‖z_{T−1}‖²."""
    entropy = free_bits(-0.5 * (1.0 + logvar), target)
    a = sched.a_s_prev[pairs.t + 1][:, None]
    scale = sched.loss_scale(pairs.t)
    with frozen(ebm):
        f = marginal_energy(ebm(a * pairs.x_pos, pairs.t))
    energy = (-(f * scale)).view(2, -1).mean(1).sum()
    top = pairs.x_pos.view(2, len(logvar), -1)[1]
    reference = (scale.view(2, -1)[1] * 0.5 * (top**2).sum(1)).mean()
    return entropy + energy + reference
