"""The image agents' perception: a digit reader pretrained on the training renderings.

The factored and relational image agents read the panel with one digit encoder shared by its
ten digit tiles (per direction the nearest and the landing tile, and the two goal-offset tiles)
and a goal-symbol reader for the centre tile; the ``slot_gru`` baseline reads them with one
encoder of its own per tile (nothing shared between tiles). The reader's outputs become the
per-direction features the symbolic agents get (``agents.direction_features``), but soft:
probabilities where the symbolic agents have one-hot numbers. So each image agent is its
symbolic twin with perfect perception replaced by a learned one, and the perceptual split
measures that reader alone.

Design (the design-risk note, item 9: "a pretrained digit encoder + PPO"): the reader is first
trained by supervised classification on panels rendered from random symbols with the *training*
digit instances, then frozen while PPO trains the rest of the agent. Its budget follows the PPO
budget: one rendered panel per ``1 / PRETRAIN_SHARE`` PPO env steps (20,000 panels for 100k
steps), the same rule for every image agent and seed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .panel import CENTRE, GRID, LANDING_TILE, NEAREST_TILE, OFFSET_TILE, DigitPool, render
from .rules import PAWN, WALL

DIGITS = 10  # values 0..9 (0: a blank tile)
OFFSETS = 17  # a signed goal offset -8..8
DIGIT_TILES = [r * GRID + c for r, c in (*NEAREST_TILE, *LANDING_TILE, *OFFSET_TILE)]
CENTRE_TILE = CENTRE[0] * GRID + CENTRE[1]
# Per direction (up, right, down, left): which offset tile lies along it (0: row, 1: column) and
# the sign of the offset along it (the goal offset is (row, column); up is row -1).
ALONG = ((0, -1), (1, 1), (0, 1), (1, -1))
PRETRAIN_SHARE = 0.2  # panels rendered for the reader's pretraining per PPO env step
PRETRAIN_EPOCHS = 4
PRETRAIN_BATCH = 256
PRETRAIN_LR = 1e-3


def tiles(panel: torch.Tensor) -> torch.Tensor:
    """(B, 3, Gs, Gs) -> (B, G * G, 3 * s * s), row-major tile order (G = GRID)."""
    b, c, h, _ = panel.shape
    s = h // GRID
    x = panel.reshape(b, c, GRID, s, GRID, s).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, GRID * GRID, c * s * s)


def soft_direction_features(
    value: torch.Tensor, pawn: torch.Tensor, sign: torch.Tensor
) -> torch.Tensor:
    """The symbolic agents' per-direction features from probabilities: ``value`` (B, 10, 10)
    over the digit of each tile of ``DIGIT_TILES``, ``pawn`` (B, 4) that a nearest tile is a
    pawn, ``sign`` (B, 2, 3) over the goal offset's sign (-1, 0, +1) per axis -> (B, 4, F) laid
    out as ``agents.direction_features`` (equal to it when the probabilities are one-hot)."""
    out = []
    for d, (axis, s) in enumerate(ALONG):
        magnitude, across = value[:, 8 + axis], value[:, 9 - axis]  # (B, 10)
        p = sign[:, axis] if s > 0 else sign[:, axis].flip(-1)  # over the sign along d
        half = magnitude[:, 1 : OFFSETS // 2 + 1]  # |offset| 1..8
        along = torch.cat([p[:, :1] * half.flip(-1), magnitude[:, :1], p[:, 2:] * half], -1)
        out.append(torch.cat([value[:, d], pawn[:, d, None], value[:, 4 + d], along, across], -1))
    return torch.stack(out, 1)


class TileMLP(nn.Module):
    """An MLP of its own per tile: (B, T, F) -> (B, T, n_out), no weight shared between tiles
    (a digit in one slot says nothing about the same digit in another)."""

    def __init__(self, n_tiles: int, n_in: int, width: int, n_out: int) -> None:
        super().__init__()
        shapes = ((n_in, width), (width, width), (width, n_out))
        self.weights = nn.ParameterList(
            nn.Parameter(torch.randn(n_tiles, a, b) / a**0.5) for a, b in shapes
        )
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(n_tiles, b)) for _, b in shapes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.einsum("btf,tfk->btk", x, w) + b
            x = x.relu() if i < len(self.weights) - 1 else x
        return x


class PanelReader(nn.Module):
    """A digit encoder for the digit tiles (digit logits and a pawn-colour logit) and a
    goal-symbol reader (the offset's sign per axis). ``shared``: one encoder for every digit
    tile (the factored and relational agents); otherwise one of its own per tile
    (:class:`TileMLP`, the ``slot_gru`` baseline)."""

    def __init__(self, size: int, width: int, shared: bool = True) -> None:
        super().__init__()
        n_in = 3 * size * size
        self.digit = (
            nn.Sequential(
                nn.Linear(n_in, width),
                nn.ReLU(),
                nn.Linear(width, width),
                nn.ReLU(),
                nn.Linear(width, DIGITS + 1),
            )
            if shared
            else TileMLP(len(DIGIT_TILES), n_in, width, DIGITS + 1)
        )
        self.goal = nn.Sequential(nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, 6))

    def logits(self, panel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 panels (B, 3, 5s, 5s) -> digit logits (B, 10, 11) and sign logits (B, 2, 3)."""
        t = tiles(panel.float() / 255.0)
        return self.digit(t[:, DIGIT_TILES]), self.goal(t[:, CENTRE_TILE]).reshape(-1, 2, 3)

    def forward(self, panel: torch.Tensor) -> torch.Tensor:
        """Panels -> soft per-direction features (B, 4, F)."""
        digit, goal = self.logits(panel)
        value = digit[..., :DIGITS].softmax(-1)
        return soft_direction_features(value, digit[:, :4, DIGITS].sigmoid(), goal.softmax(-1))


def random_symbols(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 14) panel symbols with every shown value equally likely (``rules.panel_symbols``
    layout: distances, kinds, landings, goal offset)."""
    return np.concatenate(
        [
            rng.integers(1, DIGITS, (n, 4)),
            rng.choice([PAWN, WALL], (n, 4)),
            rng.integers(0, DIGITS, (n, 4)),
            rng.integers(-(OFFSETS // 2), OFFSETS // 2 + 1, (n, 2)),
        ],
        1,
    )


def targets(symbols: np.ndarray) -> dict[str, torch.Tensor]:
    """What the reader must read from a panel of ``symbols`` (B, 14)."""
    digits = np.concatenate([symbols[:, :4], symbols[:, 8:12], np.abs(symbols[:, 12:])], 1)
    return {
        "digit": torch.from_numpy(np.clip(digits, 0, DIGITS - 1)),
        "pawn": torch.from_numpy(symbols[:, 4:8] == PAWN).float(),
        "sign": torch.from_numpy(np.sign(symbols[:, 12:]) + 1),
    }


def reader_loss(reader: PanelReader, panel: torch.Tensor, target: dict) -> torch.Tensor:
    """Cross-entropy of every digit, the pawn colour and the offset signs."""
    digit, goal = reader.logits(panel)
    ce = nn.functional.cross_entropy
    return (
        ce(digit[..., :DIGITS].flatten(0, 1), target["digit"].flatten())
        + nn.functional.binary_cross_entropy_with_logits(digit[:, :4, DIGITS], target["pawn"])
        + ce(goal.flatten(0, 1), target["sign"].flatten())
    )


def rendered(
    pool: DigitPool, n: int, seed: int, show_goal: bool
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``n`` panels of random symbols drawn with ``pool``'s digits, and their targets."""
    rng = np.random.default_rng(seed)
    sym = random_symbols(rng, n)
    panel = render(sym, rng.integers(0, 1 << 30, (n, DIGITS)), pool, show_goal)
    return torch.from_numpy(panel), targets(sym)


def reading_accuracy(reader: PanelReader, panel: torch.Tensor, target: dict) -> float:
    """Share of panels whose every digit, pawn colour and offset sign is read right."""
    with torch.no_grad():
        digit, goal = reader.logits(panel)
    right = (digit[..., :DIGITS].argmax(-1) == target["digit"]).all(1)
    right &= ((digit[:, :4, DIGITS] > 0) == target["pawn"].bool()).all(1)
    right &= (goal.argmax(-1) == target["sign"]).all(1)
    return right.float().mean().item()


def pretrain_panels(ppo_steps: int) -> int:
    """The pretraining budget for a PPO budget (at least one batch)."""
    return max(int(PRETRAIN_SHARE * ppo_steps), PRETRAIN_BATCH)


def pretrain(reader: PanelReader, pool: DigitPool, seed: int, show_goal: bool, n: int) -> float:
    """Supervised pretraining on ``n`` training renderings; the reader is then frozen.
    Returns its reading accuracy on those panels."""
    panel, target = rendered(pool, n, seed, show_goal)
    opt = torch.optim.Adam(reader.parameters(), lr=PRETRAIN_LR)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(PRETRAIN_EPOCHS):
        for idx in torch.randperm(n, generator=gen).split(PRETRAIN_BATCH):
            loss = reader_loss(reader, panel[idx], {k: v[idx] for k, v in target.items()})
            opt.zero_grad()
            loss.backward()
            opt.step()
    reader.requires_grad_(False)
    return reading_accuracy(reader, panel, target)
