"""Scoring policies on a split with the batched env, and the environment's speed.

A policy maps (state, observation) to actions (B,). Per split: success rate over all trials,
steps per successful trial (the pilot's score), ``ratio`` = steps / oracle steps per successful
trial, invalid-option rate, and the trial-1 -> trial-3 speed-up (steps of trial 1 minus steps of
the last trial, over episodes that solved both). ``permutation`` relabels the panel's digits
(the wrong-method check: an agent that reads numbers must get worse).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from . import batched
from .env import HalmaEnv
from .oracle import oracle_action, plan
from .panel import DigitPool
from .rules import DIRECTIONS, PAWN, ActionTable, Rules, action_table


def digit_permutation(seed: int) -> np.ndarray:
    """(10,) a relabelling of the digits 1..9 that moves every one of them (0 stays blank)."""
    rng = np.random.default_rng(seed)
    while True:
        perm = np.concatenate([[0], rng.permutation(np.arange(1, 10))])
        if (perm[1:] != np.arange(1, 10)).all():
            return perm


Policy = Callable[[batched.State, np.ndarray], np.ndarray]


def oracle_policy(table: ActionTable) -> Policy:
    """BFS over every afforded option of the known board (the reference)."""

    def act(state: batched.State, obs: np.ndarray) -> np.ndarray:
        return np.array(
            [
                oracle_action(p, tuple(x), tuple(g), table)
                for p, x, g in zip(state.pawns, state.pos, state.goal)
            ]
        )

    return act


def unit_only_policy(table: ActionTable) -> Policy:
    """BFS over unit steps only: an agent that never learned numbers (a wrong method)."""

    def act(state: batched.State, obs: np.ndarray) -> np.ndarray:
        out = []
        for p, x, g in zip(state.pawns, state.pos, state.goal):
            best = plan(p, tuple(x), tuple(g), [1])
            move = best.moves[0] if best is not None and best.moves else None
            out.append(0 if move is None else table.index(move.direction, 1))
        return np.array(out)

    return act


def greedy_policy(table: ActionTable, seed: int) -> Policy:
    """A hand-written heuristic reading the true numbers of the panel (a reference): among the
    directions towards the goal, jump over the nearest pawn when the landing room allows it and
    the jump does not pass the goal's row or column, else step; ties broken at random."""
    rng = np.random.default_rng(seed)
    big = max(table.values())

    def act(state: batched.State, obs: np.ndarray) -> np.ndarray:
        out = []
        for sym in batched.symbols(state):
            dist, kind, landing, offset = sym[:4], sym[4:8], sym[8:12], sym[12:]
            jumps, steps = [], []
            for d, (dy, dx) in enumerate(DIRECTIONS):
                along = offset[0] * dy + offset[1] * dx
                n = 2 * dist[d]
                if along > 0 and kind[d] == PAWN and n <= min(big, along) and landing[d] > n:
                    jumps.append(table.index(d, n))
                if along > 0 and dist[d] > 1:
                    steps.append(table.index(d, 1))
            pick = jumps or steps or [0]
            out.append(pick[rng.integers(len(pick))])
        return np.array(out)

    return act


def random_policy(table: ActionTable, seed: int) -> Policy:
    rng = np.random.default_rng(seed)
    return lambda state, obs: rng.integers(0, table.n, len(state.pos))


def evaluate(
    policy: Policy,
    boards: dict,
    pool: DigitPool | None,
    rules: Rules,
    seed: int,
    permutation: np.ndarray | None = None,
) -> dict[str, float]:
    """Run one episode per board; returns success, steps, ratio, invalid and speedup."""
    n, table = len(boards["pawns"]), action_table(rules)
    instance = np.random.default_rng(seed).integers(0, 1 << 30, (n, 10))
    state = batched.reset(
        boards["pawns"],
        boards["start"],
        boards["goal"],
        instance,
        rules,
        limit=boards["trial_limit"],
    )
    moves = invalid = 0
    while not state.done.all():
        live = ~state.done
        state, _, info = batched.step(
            state, policy(state, batched.observe(state, pool, rules, permutation)), table, rules
        )
        moves += live.sum()
        invalid += (live & ~info["valid"]).sum()
    ok = state.success
    both = ok[:, 0] & ok[:, -1]
    return {
        "success": float(ok.mean()),
        "steps": float(state.steps[ok].mean()) if ok.any() else float("nan"),
        "ratio": float((state.steps / boards["oracle_steps"][:, None])[ok].mean())
        if ok.any()
        else float("nan"),
        "invalid": float(invalid / moves),
        "speedup": float((state.steps[both, 0] - state.steps[both, -1]).mean())
        if both.any()
        else float("nan"),
    }


def speed(
    boards: dict, pool: DigitPool, rules: Rules, batch: int, steps: int, seed: int
) -> dict[str, float]:
    """Env steps per second with random actions and image panels: one batched state of
    ``batch`` boards vs a plain loop over one gymnasium env (after one warm-up step each)."""
    table, rng = action_table(rules), np.random.default_rng(seed)
    pick = rng.integers(0, len(boards["pawns"]), batch)
    state = batched.reset(
        boards["pawns"][pick],
        boards["start"][pick],
        boards["goal"][pick],
        rng.integers(0, 1 << 30, (batch, 10)),
        rules,
        limit=boards["trial_limit"][pick],
    )
    actions = rng.integers(0, table.n, (steps + 1, batch))
    state, _, _ = batched.step(state, actions[0], table, rules)
    t0 = time.perf_counter()
    for a in actions[1:]:
        state, _, _ = batched.step(state, a, table, rules)
        batched.observe(state, pool, rules)
    vectorised = steps * batch / (time.perf_counter() - t0)
    env = HalmaEnv(rules, pool=pool)
    env.reset(
        seed=seed, options={"board": (boards["pawns"][0], boards["start"][0], boards["goal"][0])}
    )
    loop_steps = max(steps * 4, 1)
    t0 = time.perf_counter()
    for a in rng.integers(0, table.n, loop_steps):
        if env.step(int(a))[2]:
            env.reset(options={"board": (env.pawns, env.start, env.goal)})
    return {"vectorised": vectorised, "loop": loop_steps / (time.perf_counter() - t0)}
