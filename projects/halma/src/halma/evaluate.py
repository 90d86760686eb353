"""Scoring policies on a split with the batched env, and the environment's speed.

A policy maps (state, observation) to actions (B,). Per split: success rate over all trials,
steps per successful trial (the pilot's score), invalid-option rate, and the trial-1 -> trial-3
speed-up (steps of trial 1 minus steps of the last trial, over episodes that solved both).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from . import batched
from .env import HalmaEnv
from .oracle import oracle_action, plan
from .panel import DigitPool
from .rules import ActionTable, Rules, action_table

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


def random_policy(table: ActionTable, seed: int) -> Policy:
    rng = np.random.default_rng(seed)
    return lambda state, obs: rng.integers(0, table.n, len(state.pos))


def evaluate(
    policy: Policy, boards: dict, pool: DigitPool | None, rules: Rules, seed: int
) -> dict[str, float]:
    """Run one episode per board; returns success, steps, invalid and speedup."""
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
            state, policy(state, batched.observe(state, pool, rules)), table, rules
        )
        moves += live.sum()
        invalid += (live & ~info["valid"]).sum()
    ok = state.success
    both = ok[:, 0] & ok[:, -1]
    return {
        "success": float(ok.mean()),
        "steps": float(state.steps[ok].mean()) if ok.any() else float("nan"),
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
