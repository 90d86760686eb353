"""The environment as pure numpy functions over a batch of boards: ``step(state, actions)``
returns a new :class:`State` and never mutates its input. Same rules as ``rules.py`` (which the
gymnasium env uses), written with rays and cumulative tests instead of loops; the tests check the
two agree step by step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .panel import DigitPool, render
from .rules import (
    DIRECTIONS,
    EMPTY,
    PAWN,
    WALL,
    ActionTable,
    Rules,
    permute_digits,
    visible_symbols,
)

DY = np.array([d[0] for d in DIRECTIONS])
DX = np.array([d[1] for d in DIRECTIONS])


@dataclass(frozen=True)
class State:
    """A batch of B episodes; every field has the batch as leading axis."""

    pawns: np.ndarray  # (B, H, W) bool
    start: np.ndarray  # (B, 2) int
    goal: np.ndarray  # (B, 2) int
    pos: np.ndarray  # (B, 2) int, the agent
    trial: np.ndarray  # (B,) int, the current trial (== rules.trials when done)
    t: np.ndarray  # (B,) int, steps taken in the current trial
    steps: np.ndarray  # (B, trials) int, steps each finished trial took
    success: np.ndarray  # (B, trials) bool, whether each finished trial reached the goal
    instance: np.ndarray  # (B, 10) int, digit instance per digit value (fixed per episode)
    potential: np.ndarray  # (B, H, W) float, shaping potential (-oracle distance), 0 if unused
    limit: np.ndarray  # (B,) int, steps a trial may take (``rules.trial_limit``)

    @property
    def done(self) -> np.ndarray:
        return self.trial >= self.steps.shape[1]


def reset(
    pawns: np.ndarray,
    start: np.ndarray,
    goal: np.ndarray,
    instance: np.ndarray,
    rules: Rules,
    potential: np.ndarray | None = None,
    limit: np.ndarray | None = None,
) -> State:
    b = len(pawns)
    return State(
        pawns=pawns.astype(bool),
        start=start.astype(np.int64),
        goal=goal.astype(np.int64),
        pos=start.astype(np.int64).copy(),
        trial=np.zeros(b, np.int64),
        t=np.zeros(b, np.int64),
        steps=np.zeros((b, rules.trials), np.int64),
        success=np.zeros((b, rules.trials), bool),
        instance=instance.astype(np.int64),
        potential=np.zeros(pawns.shape) if potential is None else potential.astype(float),
        limit=np.full(b, rules.trial_steps) if limit is None else limit.astype(np.int64),
    )


def rays(pawns: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """(B, 4, D) cell kinds along each direction at distances 1..D, D = max(H, W) (the ray is
    sure to leave the board within D cells)."""
    b, h, w = pawns.shape
    i = np.arange(1, max(h, w) + 1)
    ys = pos[:, 0, None, None] + DY[None, :, None] * i  # (B, 4, D)
    xs = pos[:, 1, None, None] + DX[None, :, None] * i
    inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    rows = np.arange(b)[:, None, None]
    occupied = pawns[rows, np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)]
    return np.where(inside, np.where(occupied, PAWN, EMPTY), WALL)


def nearest(ray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance and kind of the first non-empty cell of each ray, and distance of the second."""
    nonempty = ray != EMPTY
    first = nonempty.argmax(-1)
    kind = np.take_along_axis(ray, first[..., None], -1)[..., 0]
    after = nonempty & (np.arange(ray.shape[-1]) > first[..., None])
    second = np.where(after.any(-1), after.argmax(-1) + 1, ray.shape[-1] + 1)
    return first + 1, kind, second


def afforded(state: State, direction: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Whether each board's move (direction, value) is afforded: a unit step into an empty cell,
    or a jump of 2k over a pawn at distance k with the cells up to the landing empty."""
    dist, kind, second = nearest(rays(state.pawns, state.pos))
    rows = np.arange(len(direction))
    dist, kind, second = dist[rows, direction], kind[rows, direction], second[rows, direction]
    unit = (value == 1) & (dist > 1)
    jump = (value >= 2) & (value % 2 == 0) & (kind == PAWN) & (2 * dist == value) & (second > value)
    return unit | jump


def symbols(state: State) -> np.ndarray:
    """(B, 14) panel symbols, as ``rules.panel_symbols`` per board."""
    dist, kind, second = nearest(rays(state.pawns, state.pos))
    landing = np.where(kind == PAWN, second, 0)
    return np.concatenate([dist, kind, landing, state.goal - state.pos], axis=1)


def observe(
    state: State, pool: DigitPool | None, rules: Rules, permutation: np.ndarray | None = None
) -> np.ndarray:
    """The panels: images (B, 3, 5s, 5s) uint8, or the visible symbols (B, 14) when ``pool`` is
    None. ``permutation`` (10,) relabels every shown digit (the wrong-method check)."""
    sym = visible_symbols(symbols(state), rules)
    if permutation is not None:
        sym = permute_digits(sym, permutation)
    return sym if pool is None else render(sym, state.instance, pool, rules.show_goal)


def step(
    state: State, actions: np.ndarray, table: ActionTable, rules: Rules
) -> tuple[State, np.ndarray, dict[str, np.ndarray]]:
    """One step of every board; finished episodes stay as they are with reward 0.
    Returns (new state, rewards (B,), info with ``valid`` and ``trial_end`` (B,) bool)."""
    live = ~state.done
    direction, value = table.direction[actions], table.value[actions]
    valid = afforded(state, direction, value) & live
    moved = state.pos + valid[:, None] * value[:, None] * np.stack([DY, DX], 1)[direction]
    rows = np.arange(len(actions))
    shaping = state.potential[rows, moved[:, 0], moved[:, 1]]
    shaping = shaping - state.potential[rows, state.pos[:, 0], state.pos[:, 1]]
    reached = (moved == state.goal).all(1) & live
    t = state.t + live
    trial_end = live & (reached | (t >= state.limit))
    reward = live * (rules.step_reward + rules.shaping * shaping)
    reward = reward + reached * rules.goal_reward + (live & ~valid) * rules.invalid_penalty
    slot = np.minimum(state.trial, rules.trials - 1)
    steps, success = state.steps.copy(), state.success.copy()
    steps[rows[trial_end], slot[trial_end]] = t[trial_end]
    success[rows[trial_end], slot[trial_end]] = reached[trial_end]
    new = replace(
        state,
        pos=np.where(trial_end[:, None], state.start, moved),
        trial=state.trial + trial_end,
        t=np.where(trial_end, 0, t),
        steps=steps,
        success=success,
    )
    return new, reward, {"valid": valid, "trial_end": trial_end}
