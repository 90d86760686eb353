"""The rules of the game, written literally for one board (the reference the batched env is tested
against).

Public (arXiv 2102.11344 intro, pilot page): a move is a direction from 4 plus an *option*, a
sequence of at most ``max_opt_len`` primitives padded by an end token (EOS); a Super Halma jump
lands at the mirror image of the start about a distant pawn with every cell between empty; a move
that is not afforded leaves the agent where it is; an episode has 3 trials.

RECONSTRUCTED (not public, each configurable in :class:`Rules`): the primitives are the tokens
``1 2 3 +`` (digits and arithmetic operators); an option is read as an arithmetic expression
``digit (op digit)*`` evaluated left to right, and its value ``n`` is the length of the move; a
move of length 1 is a unit step into an empty cell, a move of length ``2k`` is the Super Halma jump
over the nearest pawn at distance ``k``; every other length is not afforded.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from reprokit.config import param
from reprokit.errors import UserError

EMPTY, PAWN, WALL = 0, 1, 2
EOS = "<eos>"
# (dy, dx) of the four directions; index = the direction part of an action.
DIRECTIONS = ((-1, 0), (0, 1), (1, 0), (0, -1))
DIRECTION_NAMES = ("up", "right", "down", "left")
OPERATORS = {"+": lambda a, b: a + b, "x": lambda a, b: a * b}
DIGITS = tuple(str(i) for i in range(10))


@dataclass
class Rules:
    """The game's rules; every field not stated in the paper is marked RECONSTRUCTED."""

    height: int = param(
        9, "board rows (RECONSTRUCTED); <= 9 so that every distance is a digit", ge=3, le=9
    )
    width: int = param(9, "board columns (RECONSTRUCTED)", ge=3, le=9)
    primitives: tuple[str, ...] = param(
        ("1", "2", "3", "+"),
        "option tokens (RECONSTRUCTED): digits 0-9 and operators + x; EOS is added",
        nonempty=True,
    )
    max_opt_len: int = param(3, "most primitives in an option (pilot: max_opt_len=3)", ge=1, le=5)
    well_formed_only: bool = param(
        True, "action space holds only well-formed options (a syntax limit, not an affordance mask)"
    )
    trials: int = param(3, "trials per episode (pilot: 3)", ge=1)
    trial_steps: int = param(20, "most steps of a trial (RECONSTRUCTED)", ge=1)
    trial_budget: float = param(
        2.0,
        "a trial fails after ceil(budget x oracle steps) steps (capped by trial_steps; "
        "0 = always trial_steps) (RECONSTRUCTED: the pilot shows a per-trial step counter)",
        ge=0,
    )
    step_reward: float = param(-0.05, "reward of every step (RECONSTRUCTED)")
    goal_reward: float = param(1.0, "reward for reaching the goal (RECONSTRUCTED)")
    invalid_penalty: float = param(0.0, "extra reward of a move that is not afforded (<= 0)", le=0)
    shaping: float = param(
        0.0, "coefficient of the potential -(oracle distance to goal) (0 = off)", ge=0
    )
    show_goal: bool = param(True, "the panel shows the goal direction symbol (RECONSTRUCTED)")
    show_offset: bool = param(
        True, "the panel shows the goal's row and column distance as digits (RECONSTRUCTED)"
    )
    show_landing: bool = param(
        True,
        "beyond a pawn, the panel shows the distance to the next non-empty cell (RECONSTRUCTED)",
    )


def check_rules(rules: Rules) -> None:
    """One-line errors for rule combinations that the field bounds cannot express."""
    bad = [p for p in rules.primitives if p not in DIGITS and p not in OPERATORS]
    if bad:
        raise UserError(f"--rules.primitives: unknown token {bad[0]!r} (digits 0-9, '+', 'x')")
    if len(set(rules.primitives)) != len(rules.primitives):
        raise UserError("--rules.primitives: a token is listed twice")
    if not any(p in DIGITS for p in rules.primitives):
        raise UserError("--rules.primitives: at least one digit is needed")


def option_value(tokens: tuple[str, ...]) -> int | None:
    """Value of an option: the tokens before the first EOS read as ``digit (op digit)*`` left to
    right, or None when that prefix is empty or not well formed."""
    if EOS in tokens:
        tokens = tokens[: tokens.index(EOS)]
    if len(tokens) % 2 == 0:  # also the empty option
        return None
    digits, ops = tokens[0::2], tokens[1::2]
    if any(t not in DIGITS for t in digits) or any(t not in OPERATORS for t in ops):
        return None
    value = int(digits[0])
    for op, digit in zip(ops, digits[1:]):
        value = OPERATORS[op](value, int(digit))
    return value


def enumerate_options(rules: Rules) -> list[tuple[str, ...]]:
    """Every option of 1..max_opt_len primitives (EOS-padded form implied), shortest first;
    only the well-formed ones when ``rules.well_formed_only``."""
    options = [
        combo
        for length in range(1, rules.max_opt_len + 1)
        for combo in itertools.product(rules.primitives, repeat=length)
    ]
    if rules.well_formed_only:
        options = [o for o in options if option_value(o) is not None]
    return options


@dataclass(frozen=True)
class ActionTable:
    """Action index ``a`` -> direction ``a // n_options`` and option ``a % n_options``."""

    options: tuple[tuple[str, ...], ...]
    direction: np.ndarray  # (A,) int
    value: np.ndarray  # (A,) int, -1 for an option that is not well formed

    @property
    def n(self) -> int:
        return len(self.direction)

    def index(self, direction: int, value: int) -> int:
        """The first (shortest) action moving ``value`` cells in ``direction``."""
        hits = np.flatnonzero((self.direction == direction) & (self.value == value))
        if len(hits) == 0:
            raise ValueError(f"no option has value {value}")
        return int(hits[0])

    def values(self) -> list[int]:
        """The move lengths the options can express, ascending."""
        return sorted({int(v) for v in self.value if v > 0})


def action_table(rules: Rules) -> ActionTable:
    options = tuple(enumerate_options(rules))
    values = [option_value(o) for o in options]
    value = np.array([-1 if v is None else v for v in values] * 4, dtype=np.int64)
    direction = np.repeat(np.arange(4), len(options))
    return ActionTable(options, direction, value)


def trial_limit(oracle_steps: int, rules: Rules) -> int:
    """Steps a trial may take on a board whose shortest plan has ``oracle_steps`` steps."""
    if rules.trial_budget == 0:
        return rules.trial_steps
    return min(rules.trial_steps, math.ceil(rules.trial_budget * oracle_steps))


def cell(pawns: np.ndarray, y: int, x: int) -> int:
    """EMPTY, PAWN, or WALL for a cell outside the board."""
    h, w = pawns.shape
    if not (0 <= y < h and 0 <= x < w):
        return WALL
    return PAWN if pawns[y, x] else EMPTY


def move_target(pawns: np.ndarray, pos: tuple[int, int], d: int, n: int) -> tuple[int, int] | None:
    """Landing cell of a move of ``n`` cells in direction ``d`` from ``pos``, or None when the
    move is not afforded: a unit step needs an empty neighbour; a jump of ``2k`` needs a pawn at
    distance ``k`` and every other cell up to and including the landing empty (Super Halma)."""
    dy, dx = DIRECTIONS[d]
    ray = [cell(pawns, pos[0] + i * dy, pos[1] + i * dx) for i in range(1, max(n, 1) + 1)]
    target = (pos[0] + n * dy, pos[1] + n * dx)
    if n == 1:
        return target if ray[0] == EMPTY else None
    if n < 2 or n % 2:
        return None
    k = n // 2
    others = ray[: k - 1] + ray[k:]
    return target if ray[k - 1] == PAWN and all(c == EMPTY for c in others) else None


N_SYMBOLS = 14  # dist (4), kind (4), landing (4), goal offset (dy, dx)


def panel_symbols(pawns: np.ndarray, pos: tuple[int, int], goal: tuple[int, int]) -> np.ndarray:
    """The panel's content (RECONSTRUCTED semantics) as 14 integers: for each direction the
    distance to the nearest non-empty cell (a pawn or the board's edge), then its kind (PAWN or
    WALL) per direction, then per direction the distance to the next non-empty cell beyond a
    pawn (0 when the nearest is the edge), then the goal offset (dy, dx)."""
    dist, kind, landing = [], [], []
    for dy, dx in DIRECTIONS:
        found = []
        i = 1
        while len(found) < 2 and (not found or found[0][1] == PAWN):
            c = cell(pawns, pos[0] + i * dy, pos[1] + i * dx)
            if c != EMPTY:
                found.append((i, c))
            i += 1
        dist.append(found[0][0])
        kind.append(found[0][1])
        landing.append(found[1][0] if found[0][1] == PAWN else 0)
    offset = (goal[0] - pos[0], goal[1] - pos[1])
    return np.array([*dist, *kind, *landing, *offset], dtype=np.int64)


def visible_symbols(symbols: np.ndarray, rules: Rules) -> np.ndarray:
    """What the panel shows of ``panel_symbols`` (B, 14) under the ``show_*`` rules: hidden
    landings become 0, a hidden goal offset keeps only its sign (or 0 without the goal symbol)."""
    out = symbols.copy()
    if not rules.show_landing:
        out[:, 8:12] = 0
    if not rules.show_offset:
        out[:, 12:] = np.sign(out[:, 12:]) * rules.show_goal
    return out


def permute_digits(symbols: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """Symbols with every shown number ``v`` (distances, landings, goal offsets) replaced by
    ``sign(v) * permutation[|v|]``: the panel's numbers lose their meaning, its layout stays."""
    out = symbols.copy()
    for cols in (slice(0, 4), slice(8, 14)):
        v = out[:, cols]
        out[:, cols] = np.sign(v) * permutation[np.minimum(np.abs(v), 9)]
    return out
