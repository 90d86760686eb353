"""Board generators for the training distribution and the three generalization splits.

Every split is defined by a property of the board's oracle plans, so that it differs from the
training distribution (``iid``) in exactly one factor (RECONSTRUCTED: the paper's splits are not
public; each threshold is a field of :class:`Layout`):

- ``perceptual``: boards drawn exactly as ``iid``; only the digit images differ (held-out
  scikit-learn instances, or the DejaVu font);
- ``conceptual``: every shortest plan needs a held-out *concept*, a jump (pawn distance k,
  direction) whose distance and direction were each seen in training in other combinations;
  the plan's composition depth (jumps) stays in the training range;
- ``algorithmic``: no held-out concept is needed, but every shortest plan chains more jumps
  than any training board needs (composition depth out of range).

``iid`` boards: a shortest plan avoids every held-out concept, and every shortest plan without
them has between ``min_jumps`` and ``train_max_jumps`` jumps (so unit steps alone are slower).
On every split unit steps alone cannot reach the goal within the trial limit
(``unit_steps_fail``), so that success rates can see numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from reprokit.cache import cached_npz
from reprokit.config import param, to_dict
from reprokit.errors import UserError

from .oracle import Concept, plan
from .panel import DigitSource
from .rules import DIRECTION_NAMES, Rules, action_table, trial_limit

Split = Literal["iid", "perceptual", "conceptual", "algorithmic"]
SPLITS: tuple[Split, ...] = ("iid", "perceptual", "conceptual", "algorithmic")
GENERATOR_VERSION = 2


@dataclass
class Layout:
    """How boards are drawn and what each split requires (all RECONSTRUCTED)."""

    pawn_density: float = param(0.3, "probability that a cell holds a pawn", gt=0, lt=1)
    min_goal_distance: int = param(3, "least Manhattan distance from start to goal", ge=1)
    held_out: tuple[str, ...] = param(
        ("2:up", "3:left"), "held-out concepts 'k:direction' (jump over a pawn k cells away)"
    )
    min_jumps: int = param(1, "iid boards: every shortest plan has at least this many jumps", ge=0)
    train_max_jumps: int = param(
        1, "iid/conceptual boards: a shortest plan with <= this many", ge=0
    )
    algorithmic_min_jumps: int = param(
        2, "algorithmic boards: every shortest plan has >= this", ge=1
    )
    unit_steps_fail: bool = param(
        True, "every board: unit steps alone cannot reach the goal within the trial limit"
    )
    perceptual_digits: DigitSource = param("test", "digit images of the perceptual split")
    max_tries: int = param(200_000, "boards drawn per split before giving up", ge=1)


def held_out_concepts(layout: Layout) -> frozenset[Concept]:
    """Parse 'k:direction' strings; a one-line error names the bad entry."""
    out = set()
    for item in layout.held_out:
        k, _, name = item.partition(":")
        if not k.isdigit() or int(k) < 1 or name not in DIRECTION_NAMES:
            raise UserError(
                f"--layout.held_out: {item!r} is not 'k:direction' "
                f"with k >= 1 and direction in {', '.join(DIRECTION_NAMES)}"
            )
        out.add((int(k), DIRECTION_NAMES.index(name)))
    return frozenset(out)


def check_layout(layout: Layout, rules: Rules) -> None:
    """Cross-field checks: thresholds that contradict each other, or concepts no option reaches."""
    held = held_out_concepts(layout)
    if layout.algorithmic_min_jumps <= layout.train_max_jumps:
        raise UserError("--layout.algorithmic_min_jumps must exceed --layout.train_max_jumps")
    if layout.min_jumps > layout.train_max_jumps:
        raise UserError("--layout.min_jumps must not exceed --layout.train_max_jumps")
    values = action_table(rules).values()
    unreachable = [k for k, _ in held if 2 * k not in values]
    if unreachable:
        raise UserError(
            f"--layout.held_out: no option expresses a jump over distance "
            f"{unreachable[0]} (lengths {values})"
        )


def draw_board(rng: np.random.Generator, rules: Rules, layout: Layout):
    """One random layout: pawns (H, W) bool, start and goal cells (empty, far enough apart)."""
    pawns = rng.random((rules.height, rules.width)) < layout.pawn_density
    free = np.argwhere(~pawns)
    if len(free) < 2:
        return None
    start, goal = free[rng.choice(len(free), 2, replace=False)]
    if np.abs(start - goal).sum() < layout.min_goal_distance:
        return None
    return pawns, tuple(int(v) for v in start), tuple(int(v) for v in goal)


def classify(
    pawns, start, goal, values: list[int], held: frozenset[Concept], rules: Rules, layout: Layout
) -> tuple[Split | None, int]:
    """The split a board belongs to (``iid`` also stands for ``perceptual``) or None, and its
    oracle steps."""
    full = plan(pawns, start, goal, values)
    if full is None or full.steps > rules.trial_steps:
        return None, -1
    if layout.unit_steps_fail:
        unit = plan(pawns, start, goal, [1])
        if unit is not None and unit.steps <= trial_limit(full.steps, rules):
            return None, full.steps
    restricted = plan(pawns, start, goal, values, excluded=held)
    if restricted is None or restricted.steps > full.steps:
        return ("conceptual" if full.jumps <= layout.train_max_jumps else None), full.steps
    if restricted.jumps >= layout.algorithmic_min_jumps:
        return "algorithmic", full.steps
    if layout.min_jumps <= restricted.jumps <= layout.train_max_jumps:
        return "iid", full.steps
    return None, full.steps


def _generate(split: Split, n: int, seed: int, rules: Rules, layout: Layout) -> dict:
    values, held = action_table(rules).values(), held_out_concepts(layout)
    want = "iid" if split == "perceptual" else split
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    pawns, start, goal, steps = [], [], [], []
    for _ in range(layout.max_tries):
        board = draw_board(rng, rules, layout)
        if board is None:
            continue
        kind, oracle_steps = classify(*board, values, held, rules, layout)
        if kind == want:
            pawns.append(board[0])
            start.append(board[1])
            goal.append(board[2])
            steps.append(oracle_steps)
            if len(pawns) == n:
                break
    if len(pawns) < n:
        raise UserError(
            f"split {split!r}: only {len(pawns)} of {n} boards in "
            f"{layout.max_tries} draws; loosen --layout or raise --layout.max_tries"
        )
    return {
        "pawns": np.array(pawns),
        "start": np.array(start),
        "goal": np.array(goal),
        "oracle_steps": np.array(steps),
        "trial_limit": np.array([trial_limit(s, rules) for s in steps]),
    }


def generate(split: Split, n: int, seed: int, rules: Rules, layout: Layout) -> dict:
    """``n`` boards of ``split`` (cached under $REPROKIT_DATA): pawns (n, H, W) bool, start and
    goal (n, 2), oracle_steps and trial_limit (n,)."""
    params = {
        "split": split,
        "n": n,
        "seed": seed,
        "rules": to_dict(rules),
        "layout": {k: v for k, v in to_dict(layout).items() if k != "perceptual_digits"},
    }
    return cached_npz(
        "halma-boards",
        GENERATOR_VERSION,
        params,
        build=lambda: _generate(split, n, seed, rules, layout),
    )


def digit_source(split: Split, layout: Layout) -> DigitSource:
    """Which digit images a split's panels use."""
    return layout.perceptual_digits if split == "perceptual" else "train"
