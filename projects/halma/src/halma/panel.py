"""The panel, the agent's only observation: colourful digits and a geometric symbol.

RECONSTRUCTED layout (the pilot shows "colorful digits and some geometric symbols", nothing more):
a 5 x 5 grid of ``s x s`` tiles around the agent. Next to the centre, in each direction (up,
right, down, left), the digit ``distance to the nearest non-empty cell``, red when it is a pawn
and blue when it is the board's edge; one tile further out, beyond a pawn, the distance to the
next non-empty cell in yellow (the landing room of a jump; blank otherwise). The centre tile shows
the goal direction as a green square displaced towards the goal (blank with ``show_goal =
False``); the top corners show the goal's row and column distances as green digits. Every other
tile is blank.

Digit images come from a :class:`DigitPool`: scikit-learn's 8 x 8 digits (``train`` or ``test``
instances of reprokit's fixed split; the perceptual split uses the test instances) or digits drawn
with matplotlib's bundled DejaVu Sans font (``font``, a rendering shift).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np

from reprokit.datasets import load_digits

from .rules import PAWN

DigitSource = Literal["train", "test", "font"]
GRID = 5  # tiles per side
NEAREST_TILE = ((1, 2), (2, 3), (3, 2), (2, 1))  # (row, col) per direction: up, right, down, left
LANDING_TILE = ((0, 2), (2, 4), (4, 2), (2, 0))
OFFSET_TILE = ((0, 0), (0, 4))  # goal row distance, goal column distance
CENTRE = (2, 2)
COLOURS = {
    PAWN: (1.0, 0.3, 0.3),
    "wall": (0.3, 0.5, 1.0),
    "landing": (1.0, 0.9, 0.2),
    "goal": (0.2, 1.0, 0.3),
}


@dataclass(frozen=True)
class DigitPool:
    """``images[v, i]`` is instance ``i`` of digit ``v``: (10, M, s, s) float in [0, 1]."""

    images: np.ndarray
    source: str

    @property
    def size(self) -> int:
        return self.images.shape[-1]

    @property
    def instances(self) -> int:
        return self.images.shape[1]


def sklearn_pool(split: Literal["train", "test"], size: int = 8) -> DigitPool:
    """scikit-learn digits of one split, cut to the same instance count for every digit."""
    x, y = load_digits(size=size, split=split)
    per_digit = [(x[y == v, 0] + 1.0) / 2.0 for v in range(10)]
    m = min(len(p) for p in per_digit)
    return DigitPool(np.stack([p[:m] for p in per_digit]).astype(np.float32), split)


def font_pool(size: int = 8, instances: int = 6) -> DigitPool:
    """Digits drawn with DejaVu Sans (shipped inside matplotlib): a few weights and offsets."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    scale, out = 6, np.zeros((10, instances, size, size), np.float32)
    for v in range(10):
        for i in range(instances):
            fig = Figure(figsize=(1, 1), dpi=size * scale)
            canvas = FigureCanvasAgg(fig)
            dx, dy = 0.04 * (i % 3 - 1), 0.04 * ((i // 3) % 2)
            weight = "bold" if i % 2 else "normal"
            fig.text(
                0.5 + dx,
                0.5 + dy,
                str(v),
                ha="center",
                va="center",
                fontsize=0.85 * size * scale * 72 / fig.dpi,
                family="DejaVu Sans",
                weight=weight,
            )
            canvas.draw()
            grey = 1.0 - np.asarray(canvas.buffer_rgba())[..., 0] / 255.0
            out[v, i] = grey.reshape(size, scale, size, scale).mean(axis=(1, 3))
    return DigitPool(out / out.max(axis=(2, 3), keepdims=True), "font")


@functools.lru_cache(maxsize=8)
def digit_pool(source: DigitSource, size: int = 8) -> DigitPool:
    """The digit images of ``source`` (cached: pools are read-only)."""
    return font_pool(size) if source == "font" else sklearn_pool(source, size)


def goal_symbol(size: int, sign: tuple[int, int]) -> np.ndarray:
    """A filled square in the centre tile, displaced towards the goal: (s, s) in {0, 1}."""
    tile, q = np.zeros((size, size), np.float32), max(size // 4, 1)
    cy = size // 2 + sign[0] * (size // 2 - q)
    cx = size // 2 + sign[1] * (size // 2 - q)
    tile[max(cy - q, 0) : cy + q, max(cx - q, 0) : cx + q] = 1.0
    return tile


def render(
    symbols: np.ndarray, instance: np.ndarray, pool: DigitPool, show_goal: bool
) -> np.ndarray:
    """Panels of a batch: visible symbols (B, 14) from ``rules.visible_symbols`` and digit
    instance indices (B, 10), one per digit value, fixed for an episode -> uint8 images
    (B, 3, 5s, 5s). A number <= 0 leaves its tile blank (offsets show their magnitude)."""
    b, s = len(symbols), pool.size
    out = np.zeros((b, 3, GRID * s, GRID * s), np.float32)

    def put(tile: tuple[int, int], value: np.ndarray, colour: np.ndarray) -> None:
        v = np.clip(value, 0, 9)
        digit = (
            pool.images[v, instance[np.arange(b), v] % pool.instances] * (value > 0)[:, None, None]
        )
        r, c = tile
        out[:, :, r * s : (r + 1) * s, c * s : (c + 1) * s] = (
            colour[:, :, None, None] * digit[:, None]
        )

    for d in range(4):
        kind = np.where(symbols[:, 4 + d, None] == PAWN, COLOURS[PAWN], COLOURS["wall"])
        put(NEAREST_TILE[d], symbols[:, d], kind)
        put(LANDING_TILE[d], symbols[:, 8 + d], np.tile(COLOURS["landing"], (b, 1)))
    for i, tile in enumerate(OFFSET_TILE):
        put(tile, np.abs(symbols[:, 12 + i]), np.tile(COLOURS["goal"], (b, 1)))
    if show_goal:
        r, c = CENTRE
        for i in range(b):
            sym = goal_symbol(s, tuple(int(v) for v in np.sign(symbols[i, 12:14])))
            out[i, :, r * s : (r + 1) * s, c * s : (c + 1) * s] = (
                np.asarray(COLOURS["goal"])[:, None, None] * sym
            )
    return (out * 255).round().astype(np.uint8)
