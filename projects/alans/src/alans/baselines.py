"""Connectionist baselines on the same data and budget.

* ``ContrastiveMLP`` (Tier A, symbolic input): concat the 8 context one-hots with one
  candidate's (9 x F), MLP 9F -> 256 -> 256 -> 1, softmax over the 8 candidates, CE.
* ``CNNMLP`` (Tier B): RAVEN ``cnn_mlp``-style panel encoder (4 conv layers x 32 channels,
  stride 2) + the same contrastive MLP head over the 9 panel embeddings.
* ``SCL`` (Tier B): a small Scattering Compositional Learner (Wu et al. 2020): a shared panel
  encoder, the embedding scattered into G attribute groups, one shared attribute network per
  group, one shared relation network over the 9 panels of each group, summed to a score.
"""

from __future__ import annotations

import torch
from torch import nn


def _candidate_stack(ctx: torch.Tensor, cands: torch.Tensor) -> torch.Tensor:
    """ctx (B, 8, F), cands (B, 8, F) -> (B, 8, 9, F): the context completed by each candidate."""
    B, _, F = ctx.shape
    return torch.cat([ctx.unsqueeze(1).expand(B, 8, 8, F), cands.unsqueeze(2)], 2)


class ContrastiveMLP(nn.Module):
    """Symbolic baseline. x (B, 16, F) -> scores (B, 8)."""

    def __init__(self, n_features: int, hidden: int = 256) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(9 * n_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = _candidate_stack(x[:, :8], x[:, 8:])  # (B, 8, 9, F)
        return self.net(z.flatten(2)).squeeze(-1)


class PanelEncoder(nn.Module):
    """4 conv layers (3x3, stride 2, BN, ReLU) x ``ch`` channels: (N, 1, 32, 32) -> (N, 4 ch)."""

    def __init__(self, ch: int = 32) -> None:
        super().__init__()
        layers, c_in = [], 1
        for _ in range(4):
            layers += [nn.Conv2d(c_in, ch, 3, 2, 1), nn.BatchNorm2d(ch), nn.ReLU()]
            c_in = ch
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)  # (N, ch * 2 * 2)


def _panels(crops: torch.Tensor) -> torch.Tensor:
    """(B, 16, S, H, W) uint8 -> (B * 16, 1, H', W') float in [0, 1] (Grid quadrants re-tiled)."""
    B, P, S, H, W = crops.shape
    x = crops.float() / 255.0
    if S == 4:
        x = torch.cat(
            [torch.cat([x[:, :, 0], x[:, :, 1]], -1), torch.cat([x[:, :, 2], x[:, :, 3]], -1)], -2
        )
        x = nn.functional.avg_pool2d(x.reshape(B * P, 1, 2 * H, 2 * W), 2)
    return x.reshape(B * P, 1, H, W)


class CNNMLP(nn.Module):
    """Contrastive CNN-MLP. crops (B, 16, S, 32, 32) -> scores (B, 8)."""

    def __init__(self, ch: int = 32, hidden: int = 256) -> None:
        super().__init__()
        self.encoder = PanelEncoder(ch)
        self.head = ContrastiveMLP(4 * ch, hidden)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        B = crops.shape[0]
        return self.head(self.encoder(_panels(crops)).reshape(B, 16, -1))


class SCL(nn.Module):
    """Small Scattering Compositional Learner. crops (B, 16, S, 32, 32) -> scores (B, 8)."""

    def __init__(
        self, ch: int = 32, groups: int = 8, group_dim: int = 16, hidden: int = 64
    ) -> None:
        super().__init__()
        self.groups = groups
        self.encoder = PanelEncoder(ch)  # (N, 4 ch)
        assert (4 * ch) % groups == 0, "embedding must split evenly into attribute groups"
        d_in = 4 * ch // groups
        self.attribute_net = nn.Sequential(
            nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, group_dim)
        )
        self.relation_net = nn.Sequential(
            nn.Linear(9 * group_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.output = nn.Linear(hidden, 1)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        B = crops.shape[0]
        h = self.encoder(_panels(crops)).reshape(B, 16, self.groups, -1)  # scatter into groups
        a = self.attribute_net(h)  # (B, 16, G, group_dim): shared across groups
        z = _candidate_stack(a[:, :8].flatten(2), a[:, 8:].flatten(2))  # (B, 8, 9, G * gd)
        z = z.reshape(B, 8, 9, self.groups, -1).transpose(2, 3).flatten(3)  # (B, 8, G, 9 gd)
        r = self.relation_net(z).mean(2)  # shared relation net per group, then aggregate
        return self.output(r).squeeze(-1)
