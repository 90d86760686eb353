"""The class-coupled energy-based prior on z (official `CEBMNet`).

    E(z) = LSE_k f_f(z_f)_k + LSE_k f_b(z_b)_k + s(z_s),     p(z) ∝ exp(-E(z)) N(z; 0, I)

f_f, f_b: MLPs d -> nef -> nef -> K symbol logits; s: MLP d_s -> 2nef -> 2nef -> 2nef -> 1. The sign
convention is the official code's (Langevin descends E + ||z||^2 / 2; the EBM loss lowers E on
posterior samples). The symbol logits f_f, f_b are also the pseudo-label targets of the M-step.
"""

from __future__ import annotations

import itertools

import torch
from drc.configs import ModelConfig
from drc.networks import orthogonal_init
from torch import nn


def _mlp(d_in: int, width: int, d_out: int, hidden: int) -> nn.Sequential:
    dims = [d_in] + [width] * hidden
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(dims):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, nn.Linear(dims[-1], d_out))


class LatentEBM(nn.Module):
    """E(z) for z = [z_f, z_b, z_s]; without re-assignment (zs_dim = 0) there is no s(z_s)."""

    def __init__(self, cfg: ModelConfig, zs_dim: int) -> None:
        super().__init__()
        self.zf_dim, self.zb_dim, self.zs_dim = cfg.zf_dim, cfg.zb_dim, zs_dim
        self.f_f = _mlp(cfg.zf_dim, cfg.nef, cfg.n_classes, hidden=2)
        self.f_b = _mlp(cfg.zb_dim, cfg.nef, cfg.n_classes, hidden=2)
        self.s = _mlp(zs_dim, 2 * cfg.nef, 1, hidden=3) if zs_dim > 0 else None
        orthogonal_init(self)

    def symbol_logits(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(f_f(z_f), f_b(z_b)), each (B, K)."""
        z_f, z_b, _ = z.split([self.zf_dim, self.zb_dim, self.zs_dim], dim=1)
        return self.f_f(z_f), self.f_b(z_b)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """E(z): (B,)."""
        lf, lb = self.symbol_logits(z)
        E = torch.logsumexp(lf, dim=1) + torch.logsumexp(lb, dim=1)
        if self.s is not None:
            E = E + self.s(z[:, self.zf_dim + self.zb_dim :]).squeeze(1)
        return E
