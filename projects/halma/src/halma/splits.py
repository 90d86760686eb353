"""Board generators for the training distribution and the three generalization splits.

Every split is defined by a property of the board's oracle plans, so that it differs from the
training distribution (``iid``) in exactly one factor (RECONSTRUCTED: the paper's splits are not
public; each threshold is a field of :class:`Layout`):

- ``perceptual``: the ``iid`` boards themselves; only the digit images differ (held-out
  scikit-learn instances, or the DejaVu font);
- ``conceptual``: every plan without a held-out *concept* is ``conceptual_saving`` steps longer
  than the shortest plan; a concept is a jump (pawn distance k, direction) whose distance and
  direction are each trained in other combinations (PPO never selects a held-out jump in
  training); the plan's composition depth (jumps) stays in the training range;
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

from .oracle import Concept, move_graph, search
from .panel import DigitSource
from .rules import DIRECTION_NAMES, Rules, action_table, trial_limit

Split = Literal["iid", "perceptual", "conceptual", "algorithmic"]
SPLITS: tuple[Split, ...] = ("iid", "perceptual", "conceptual", "algorithmic")
ALL_JUMPS = frozenset((k, d) for k in range(1, 10) for d in range(4))  # excluded: unit steps only
GENERATOR_VERSION = 3


@dataclass
class Layout:
    """How boards are drawn and what each split requires (all RECONSTRUCTED)."""

    pawn_density: float = param(0.2, "probability that a cell holds a pawn", gt=0, lt=1)
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
    conceptual_saving: int = param(
        2, "conceptual boards: plans without a held-out concept are >= this many steps longer", ge=1
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
    graph = move_graph(pawns, values)
    full = search(graph, start, goal)
    if full is None or full.steps > rules.trial_steps:
        return None, -1
    limit = trial_limit(full.steps, rules)
    if layout.unit_steps_fail:
        unit = search(graph, start, goal, excluded=ALL_JUMPS)
        if unit is not None and unit.steps <= limit:
            return None, full.steps
    restricted = search(graph, start, goal, excluded=held)
    if restricted is None or restricted.steps >= full.steps + layout.conceptual_saving:
        return ("conceptual" if full.jumps <= layout.train_max_jumps else None), full.steps
    if restricted.steps > full.steps:
        return None, full.steps
    if restricted.jumps >= layout.algorithmic_min_jumps:
        return "algorithmic", full.steps
    if layout.min_jumps <= restricted.jumps <= layout.train_max_jumps:
        return "iid", full.steps
    return None, full.steps


DRAWN: tuple[Split, ...] = ("iid", "conceptual", "algorithmic")  # perceptual reuses iid boards


def _generate(counts: dict[str, int], seed: int, rules: Rules, layout: Layout) -> dict:
    """One stream of random boards, each kept by the split ``classify`` assigns it to until every
    split has its count: the splits of one seed are disjoint by construction."""
    values, held = action_table(rules).values(), held_out_concepts(layout)
    rng = np.random.default_rng([seed, GENERATOR_VERSION])
    found: dict[str, list] = {s: [] for s in counts}
    for _ in range(layout.max_tries):
        board = draw_board(rng, rules, layout)
        if board is None:
            continue
        kind, steps = classify(*board, values, held, rules, layout)
        if kind in found and len(found[kind]) < counts[kind]:
            found[kind].append((*board, steps))
            if all(len(found[s]) == counts[s] for s in counts):
                break
    short = [s for s in counts if len(found[s]) < counts[s]]
    if short:
        raise UserError(
            f"split {short[0]!r}: only {len(found[short[0]])} of {counts[short[0]]} boards in "
            f"{layout.max_tries} draws; loosen --layout or raise --layout.max_tries"
        )
    out = {}
    for s, boards in found.items():
        pawns, start, goal, steps = zip(*boards) if boards else ((), (), (), ())
        out |= {
            f"{s}/pawns": np.array(pawns, bool).reshape(-1, rules.height, rules.width),
            f"{s}/start": np.array(start, np.int64).reshape(-1, 2),
            f"{s}/goal": np.array(goal, np.int64).reshape(-1, 2),
            f"{s}/oracle_steps": np.array(steps, np.int64),
            f"{s}/trial_limit": np.array([trial_limit(k, rules) for k in steps], np.int64),
        }
    return out


def generate_all(
    counts: dict[str, int], seed: int, rules: Rules, layout: Layout
) -> dict[str, dict[str, np.ndarray]]:
    """Boards of several splits from one seed (cached under $REPROKIT_DATA): per split, pawns
    (n, H, W) bool, start and goal (n, 2), oracle_steps and trial_limit (n,). ``perceptual``
    gets the ``iid`` boards (only its digit images differ)."""
    drawn = {("iid" if s == "perceptual" else s): n for s, n in counts.items()}
    params = {
        "counts": dict(sorted(drawn.items())),
        "seed": seed,
        "rules": to_dict(rules),
        "layout": {k: v for k, v in to_dict(layout).items() if k != "perceptual_digits"},
    }
    flat = cached_npz(
        "halma-boards",
        GENERATOR_VERSION,
        params,
        build=lambda: _generate(drawn, seed, rules, layout),
    )
    split = {
        s: {k.split("/")[1]: v for k, v in flat.items() if k.startswith(f"{s}/")} for s in drawn
    }
    return {s: split["iid" if s == "perceptual" else s] for s in counts}


def generate(split: Split, n: int, seed: int, rules: Rules, layout: Layout) -> dict:
    """``n`` boards of one split (see ``generate_all``)."""
    return generate_all({split: n}, seed, rules, layout)[split]


def digit_source(split: Split, layout: Layout) -> DigitSource:
    """Which digit images a split's panels use."""
    return layout.perceptual_digits if split == "perceptual" else "train"
