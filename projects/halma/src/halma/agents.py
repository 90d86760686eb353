"""Recurrent actor-critics with different inductive biases, all reading the panel image.

- ``cnn_gru``: the baseline, a small CNN (three 3 x 3 convolutions) over the whole panel;
- ``factored``: the panel cut into its 3 x 3 tiles, one digit encoder shared by every tile (an
  object-factored bias: a digit means the same in every direction), tile codes concatenated;
- ``relational``: the same shared tile encoder, then one self-attention layer over the nine tile
  tokens (with learned position embeddings) and mean pooling.

Every agent ends in the same GRU core and linear policy / value heads. The GRU state is reset per
episode, never per trial, so memory across the 3 trials is possible. Shapes: panels (B, 3, 3s, 3s)
uint8, hidden (B, H).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

AgentName = Literal["cnn_gru", "factored", "relational"]
AGENT_NAMES: tuple[AgentName, ...] = ("cnn_gru", "factored", "relational")


def tiles(panel: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3s, 3s) -> (B, 9, 3 * s * s), row-major tile order."""
    b, c, h, _ = panel.shape
    s = h // 3
    x = panel.reshape(b, c, 3, s, 3, s).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, 9, c * s * s)


class CNNEncoder(nn.Module):
    def __init__(self, size: int, width: int, out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * width * ((3 * size + 3) // 4) ** 2, out),
            nn.ReLU(),
        )

    def forward(self, panel: torch.Tensor) -> torch.Tensor:
        return self.net(panel)


class FactoredEncoder(nn.Module):
    """One MLP shared by the nine tiles; codes concatenated in tile order."""

    def __init__(self, size: int, width: int, out: int) -> None:
        super().__init__()
        self.tile = nn.Sequential(
            nn.Linear(3 * size * size, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU()
        )
        self.mix = nn.Sequential(nn.Linear(9 * width, out), nn.ReLU())

    def forward(self, panel: torch.Tensor) -> torch.Tensor:
        return self.mix(self.tile(tiles(panel)).flatten(1))


class RelationalEncoder(nn.Module):
    """Shared tile MLP, position embeddings, one self-attention block, mean pooling."""

    def __init__(self, size: int, width: int, out: int, heads: int = 4) -> None:
        super().__init__()
        self.tile = nn.Sequential(nn.Linear(3 * size * size, width), nn.ReLU())
        self.position = nn.Parameter(torch.zeros(9, width))
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm = nn.LayerNorm(width)
        self.out = nn.Sequential(nn.Linear(width, out), nn.ReLU())

    def forward(self, panel: torch.Tensor) -> torch.Tensor:
        x = self.tile(tiles(panel)) + self.position  # (B, 9, width)
        x = self.norm(x + self.attention(x, x, x, need_weights=False)[0])
        return self.out(x.mean(1))


ENCODERS = {"cnn_gru": CNNEncoder, "factored": FactoredEncoder, "relational": RelationalEncoder}


class Agent(nn.Module):
    """Encoder -> GRU cell -> policy logits (A) and value."""

    def __init__(
        self, name: AgentName, size: int, n_actions: int, width: int = 32, hidden: int = 128
    ) -> None:
        super().__init__()
        self.encoder = ENCODERS[name](size, width, hidden)
        self.core = nn.GRUCell(hidden, hidden)
        self.policy = nn.Linear(hidden, n_actions)
        self.value = nn.Linear(hidden, 1)
        self.hidden_size = hidden

    def initial(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch, self.hidden_size)

    def forward(
        self, panel: torch.Tensor, h: torch.Tensor, start: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step: panels (B, 3, 3s, 3s) uint8, hidden (B, H), ``start`` (B,) bool marks the
        first step of an episode (hidden reset). Returns logits (B, A), value (B,), hidden."""
        h = h * (~start).float()[:, None]
        h = self.core(self.encoder(panel.float() / 255.0), h)
        return self.policy(h), self.value(h)[:, 0], h
