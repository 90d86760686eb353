"""Recurrent actor-critics with different inductive biases.

Image agents read the panel (B, 3, 5s, 5s) uint8:
- ``slot_gru``: the baseline, ``symbolic`` reading the panel through a digit reader with an
  encoder of its own per tile (the design-risk note, item 2: an unshared per-slot encoder instead
  of a CNN, which trains ~20x slower here), pretrained like the others' readers and frozen
  during PPO (item 9), and one policy head over all actions;
- ``factored``: ``symbolic_factored`` reading the panel through a digit encoder shared by every
  digit tile (``perception.PanelReader``: a digit means the same in every direction), pretrained
  on the training renderings and frozen during PPO;
- ``relational``: ``symbolic_relational`` reading the panel through the same kind of reader.

Symbolic agents read the panel's numbers themselves (perfect perception; B, 14 int):
- ``symbolic``: the factored agent's layers without its sharing: one MLP over the four
  directions' one-hot numbers concatenated and one head over all actions;
- ``symbolic_factored``: one encoder shared by the four directions, each reading its own
  direction's numbers and the goal offset projected on it; the logits of a direction's options
  come from a head shared by the directions (a jump over k means the same in every direction);
- ``symbolic_relational``: the same per-direction tokens plus a learned embedding of each
  direction, one self-attention block over the four tokens, then the shared option head (the
  embeddings let it treat directions differently: whether it does is measured, not built in);
- ``symbolic_blind``: ``symbolic_factored`` with every number replaced by its sign (a wrong
  method: it sees the layout's colours and the goal direction, not the numbers).

Every agent has a GRU core reset per episode, never per trial, so memory across the 3 trials is
possible; linear value head; hidden (B, H).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from .perception import DIGITS, OFFSETS, PanelReader
from .rules import PAWN

AgentName = Literal[
    "slot_gru",
    "factored",
    "relational",
    "symbolic",
    "symbolic_factored",
    "symbolic_relational",
    "symbolic_blind",
]
IMAGE_AGENTS: tuple[AgentName, ...] = ("slot_gru", "factored", "relational")
SYMBOLIC_AGENTS: tuple[AgentName, ...] = (
    "symbolic",
    "symbolic_factored",
    "symbolic_relational",
    "symbolic_blind",
)
AGENT_NAMES: tuple[AgentName, ...] = IMAGE_AGENTS + SYMBOLIC_AGENTS
UNSHARED_AGENTS: tuple[AgentName, ...] = ("symbolic", "slot_gru")  # ``FlatAgent``s
UNIT = torch.tensor([[-1, 0], [0, 1], [1, 0], [0, -1]])  # (dy, dx) of up, right, down, left


def one_hot(v: torch.Tensor, n: int, low: int = 0) -> torch.Tensor:
    return nn.functional.one_hot((v - low).clamp(0, n - 1), n).float()


def direction_features(symbols: torch.Tensor) -> torch.Tensor:
    """(B, 14) visible symbols -> (B, 4, F): per direction its nearest distance, whether it is a
    pawn, its landing distance, and the goal offset along and across that direction."""
    dist, kind, landing, offset = symbols[:, :4], symbols[:, 4:8], symbols[:, 8:12], symbols[:, 12:]
    along = offset @ UNIT.T  # (B, 4): goal offset projected on each direction
    across = (offset @ UNIT.flip(1).T).abs()
    return torch.cat(
        [
            one_hot(dist, DIGITS),
            (kind == PAWN).float()[..., None],
            one_hot(landing, DIGITS),
            one_hot(along, OFFSETS, low=-(OFFSETS // 2)),
            one_hot(across, DIGITS),
        ],
        -1,
    )


DIRECTION_FEATURES = 2 * DIGITS + 1 + OFFSETS + DIGITS


def mlp(n_in: int, width: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, n_out), nn.ReLU())


class Recurrent(nn.Module):
    """A GRU-core actor-critic: hidden state (B, H), zero at the start of an episode."""

    hidden_size: int

    def initial(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch, self.hidden_size)


class FlatAgent(Recurrent):
    """``symbolic`` (and, with an unshared ``reader``, the image baseline ``slot_gru``): the
    factored agent's layers without its sharing. e = phi([x_up, x_right, x_down, x_left]) reads
    the four directions' numbers concatenated, the GRU reads e, and one head gives the logits
    of all actions: logit(a) = psi([e, h])_a. A jump learnt in one direction says nothing about
    another."""

    def __init__(
        self, n_actions: int, width: int, hidden: int, reader: PanelReader | None = None
    ) -> None:
        super().__init__()
        self.reader = reader
        self.phi = mlp(4 * DIRECTION_FEATURES, width, width)
        self.core = nn.GRUCell(width, hidden)
        self.psi = nn.Sequential(
            nn.Linear(width + hidden, width), nn.ReLU(), nn.Linear(width, n_actions)
        )
        self.value = nn.Linear(hidden, 1)
        self.hidden_size = hidden

    def forward(
        self, obs: torch.Tensor, h: torch.Tensor, start: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step: symbols (B, 14) int or, with a reader, panels (B, 3, 5s, 5s) uint8; hidden
        (B, H); ``start`` (B,) bool marks the first step of an episode (hidden reset). Returns
        logits (B, A), value (B,), hidden."""
        x = direction_features(obs) if self.reader is None else self.reader(obs)
        e = self.phi(x.flatten(1))
        h = self.core(e, h * (~start).float()[:, None])
        return self.psi(torch.cat([e, h], -1)), self.value(h)[:, 0], h


class FactoredAgent(Recurrent):
    """``symbolic_factored`` (and, with a ``reader``, the image agent ``factored``): a direction
    encoder and an option head shared by the 4 directions.

    e_d = phi(x_d); the GRU reads sum_d e_d (the same for any order of the directions); the logit
    of option o in direction d is psi([e_d, h])_o. Rotating the board permutes the logits the
    same way, so a jump learnt in one direction is available in the others. x_d are the
    direction's one-hot numbers, or their probabilities read from the panel by ``reader``
    (``perception.PanelReader``). ``blind``: every number is replaced by its sign before the
    encoder (the digit-blind wrong method)."""

    def __init__(
        self,
        n_options: int,
        width: int,
        hidden: int,
        blind: bool = False,
        reader: PanelReader | None = None,
    ) -> None:
        super().__init__()
        self.blind, self.reader = blind, reader
        self.phi = mlp(DIRECTION_FEATURES, width, width)
        self.core = nn.GRUCell(width, hidden)
        self.psi = nn.Sequential(
            nn.Linear(width + hidden, width), nn.ReLU(), nn.Linear(width, n_options)
        )
        self.value = nn.Linear(hidden, 1)
        self.hidden_size = hidden

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """(B, 4, F) per-direction inputs from symbols (B, 14) or, with a reader, panels."""
        if self.reader is not None:
            return self.reader(obs)
        return direction_features(obs.sign() if self.blind else obs)

    def tokens(self, obs: torch.Tensor) -> torch.Tensor:
        return self.phi(self.features(obs))

    def forward(self, obs: torch.Tensor, h: torch.Tensor, start: torch.Tensor):
        """obs: symbols (B, 14) int or panels; same returns as :meth:`FlatAgent.forward`."""
        e = self.tokens(obs)  # (B, 4, w)
        h = self.core(e.sum(1), h * (~start).float()[:, None])
        logits = self.psi(torch.cat([e, h[:, None].expand(-1, 4, -1)], -1))  # (B, 4, options)
        return logits.flatten(1), self.value(h)[:, 0], h


class RelationalAgent(FactoredAgent):
    """``symbolic_relational`` (with a ``reader``: ``relational``): tokens t_d = phi(x_d) + p_d
    (learned direction embeddings p_d), one self-attention block over the 4 tokens, then the
    GRU and option head of the factored agent: logit(d, o) = psi([t_d, h])_o."""

    def __init__(
        self,
        n_options: int,
        width: int,
        hidden: int,
        heads: int = 4,
        reader: PanelReader | None = None,
    ) -> None:
        super().__init__(n_options, width, hidden, reader=reader)
        self.direction = nn.Parameter(0.1 * torch.randn(4, width))
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm = nn.LayerNorm(width)

    def tokens(self, obs: torch.Tensor) -> torch.Tensor:
        t = self.phi(self.features(obs)) + self.direction  # (B, 4, width)
        return self.norm(t + self.attention(t, t, t, need_weights=False)[0])


def make_agent(
    name: AgentName, size: int, n_actions: int, width: int = 32, hidden: int = 128
) -> nn.Module:
    """The agent called ``name`` for a panel of ``size``-pixel digits and ``n_actions`` actions
    (4 directions x options, direction-major); an image agent's reader is not yet pretrained."""
    n_options = n_actions // 4
    if name in ("symbolic_factored", "symbolic_blind"):
        return FactoredAgent(n_options, width, hidden, blind=name == "symbolic_blind")
    if name == "symbolic_relational":
        return RelationalAgent(n_options, width, hidden)
    if name == "factored":
        return FactoredAgent(n_options, width, hidden, reader=PanelReader(size, width))
    if name == "relational":
        return RelationalAgent(n_options, width, hidden, reader=PanelReader(size, width))
    if name == "symbolic":
        return FlatAgent(n_actions, width, hidden)
    return FlatAgent(n_actions, width, hidden, reader=PanelReader(size, width, shared=False))
