"""The latent energy-based priors: LDEBM's time-conditioned EBM and SVEBM-IB's EBM.

Both return K class logits f_k(z, t); the density-modelling energy is the symbol-vector coupling
marginal f(z, t) = logsumexp_k f_k(z, t), i.e. p(y, z) ∝ exp(⟨y, f(z)⟩)·p_0(z) summed over the
one-hot symbol y (paper eq. 2–3).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def marginal_energy(logits: torch.Tensor) -> torch.Tensor:
    """f(z) = log Σ_k exp f_k(z): the symbol-vector coupling summed over symbols, shape (B,)."""
    return torch.logsumexp(logits, dim=-1)


def sinusoidal_table(max_T: int, dim: int) -> torch.Tensor:
    """Fixed positional table (max_T, dim): sin on even, cos on odd columns (official ``te``)."""
    pos = torch.arange(max_T, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(max_T, dim)
    table[:, 0::2] = torch.sin(pos * div)
    table[:, 1::2] = torch.cos(pos * div)
    return table


def _linear(n_in: int, n_out: int, use_sn: bool, init: float) -> nn.Module:
    """A Linear re-initialised U(−init, init) (official ``get_model``), then spectral-normed."""
    layer = nn.Linear(n_in, n_out)
    if init > 0:
        for p in layer.parameters():
            nn.init.uniform_(p, -init, init)
    return spectral_norm(layer) if use_sn else layer


class LatentDiffusionEBM(nn.Module):
    """LDEBM's prior network (official ``LEBM.forward``): latent embedding ⊕ time embedding →
    Linear(2H → H) → residual blocks → K logits; spectral norm on every Linear."""

    def __init__(
        self,
        dim: int,
        hidden: int,
        n_classes: int,
        n_blocks: int,
        T: int,
        emb_dim: int,
        use_sn: bool = True,
        init: float = 0.1,
    ) -> None:
        super().__init__()
        act = nn.LeakyReLU(0.2)
        self.ze = nn.Sequential(
            _linear(dim, hidden, use_sn, init), act, _linear(hidden, hidden, use_sn, init)
        )
        self.register_buffer("pe", sinusoidal_table(T, emb_dim))
        self.te = nn.Sequential(
            _linear(emb_dim, hidden, use_sn, init), act, _linear(hidden, hidden, use_sn, init)
        )
        self.concat_proj = nn.Sequential(act, _linear(2 * hidden, hidden, use_sn, init))
        self.blocks = nn.ModuleList(
            [nn.Sequential(act, _linear(hidden, hidden, use_sn, init)) for _ in range(n_blocks)]
        )
        self.out = nn.Sequential(act, _linear(hidden, n_classes, use_sn, init))
        self.n_classes = n_classes
        self.frozen_table: torch.Tensor | None = None  # set by langevin.frozen within a chain

    def time_table(self) -> torch.Tensor:
        """The time MLP on its T-row sinusoidal table, (T, H)."""
        return self.te(self.pe)

    def forward(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Class logits f_k(z, t): z (B, d), t (B,) level indices → (B, K). The time MLP runs on
        its T-row table once per call (once per chain inside ``langevin.frozen``), then rows are
        gathered (not once per sample)."""
        table = self.time_table() if self.frozen_table is None else self.frozen_table
        t_emb = table[t]  # (B, H)
        h = self.concat_proj(torch.cat([self.ze(z), t_emb], dim=-1))
        for block in self.blocks:
            h = block(h) + h
        return self.out(h)


class LevelSplitEBM(nn.Module):
    """A deviation (README, Deviations): level 0 gets its own network, levels 1…T−1 share
    another, so the class-head terms at t = 0 (pseudo-label cross-entropy, IB) no longer reshape
    the upper levels' energies through shared weights. Same interface as the one network."""

    def __init__(self, **kwargs) -> None:
        super().__init__()
        self.level0 = LatentDiffusionEBM(**kwargs)
        self.upper = LatentDiffusionEBM(**kwargs)

    def forward(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Class logits f_k(z, t): rows at t = 0 through ``level0``, the rest through ``upper``."""
        at0 = t == 0
        if at0.all():
            return self.level0(z, t)
        if not at0.any():
            return self.upper(z, t)
        out = torch.empty(len(z), self.level0.n_classes, dtype=z.dtype)
        out[at0] = self.level0(z[at0], t[at0])
        out[~at0] = self.upper(z[~at0], t[~at0])
        return out


class SVEBMEnergy(nn.Module):
    """SVEBM-IB's 2-D prior EBM (official ``bpucla/ibebm`` synthetic script): Linear–GELU–Linear
    to K logits, no spectral norm, no time input (one level, reference N(0, I))."""

    def __init__(self, dim: int, hidden: int, n_classes: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, n_classes))

    def forward(self, z: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """Class logits f_k(z), shape (B, K); ``t`` is ignored."""
        return self.net(z)
