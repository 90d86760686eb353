"""The gymnasium environment, one board at a time, written with the literal rules of ``rules.py``.

An episode: the agent starts on ``start`` of a board it cannot see; each step it picks a
direction and an option (one discrete action); an afforded move "catapults" it to the landing
cell, any other leaves it in place. A trial ends at the goal or after ``rules.trial_steps`` steps;
the agent then respawns on ``start`` of the same board; the episode ends after ``rules.trials``
trials. ``info`` carries the affordance of the last move and, per finished trial, its steps and
success (the score is steps per successful trial).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np

from .oracle import distance_map, plan
from .panel import GRID, DigitPool, render
from .rules import (
    N_SYMBOLS,
    Rules,
    action_table,
    check_rules,
    move_target,
    panel_symbols,
    trial_limit,
    visible_symbols,
)
from .splits import Layout, check_layout, classify, draw_board, held_out_concepts

Observation = Literal["image", "symbols"]


class HalmaEnv(gym.Env):
    """HALMA-style episodes on boards drawn from the ``iid`` distribution (or given in
    ``reset(options={"board": (pawns, start, goal)})``)."""

    metadata: ClassVar[dict] = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        rules: Rules | None = None,
        layout: Layout | None = None,
        pool: DigitPool | None = None,
        observation: Observation = "image",
    ) -> None:
        self.rules, self.layout = rules or Rules(), layout or Layout()
        check_rules(self.rules)
        check_layout(self.layout, self.rules)
        if observation == "image" and pool is None:
            raise ValueError("observation='image' needs a DigitPool")
        self.pool, self.observation = pool, observation
        self.table = action_table(self.rules)
        self.action_space = gym.spaces.Discrete(self.table.n)
        self.render_mode = "rgb_array" if pool is not None else None
        h, w = self.rules.height, self.rules.width
        if observation == "image":
            s = GRID * pool.size
            self.observation_space = gym.spaces.Box(0, 255, (3, s, s), np.uint8)
        else:
            d = max(h, w)
            low = np.array([1] * 4 + [1] * 4 + [0] * 4 + [1 - h, 1 - w])
            high = np.array([d] * 4 + [2] * 4 + [d] * 4 + [h - 1, w - 1])
            self.observation_space = gym.spaces.Box(low, high, (N_SYMBOLS,), np.int64)

    def _draw(self) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
        values, held = self.table.values(), held_out_concepts(self.layout)
        for _ in range(self.layout.max_tries):
            board = draw_board(self.np_random, self.rules, self.layout)
            if (
                board is not None
                and classify(*board, values, held, self.rules, self.layout)[0] == "iid"
            ):
                return board
        raise RuntimeError("no iid board found; loosen the layout")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        pawns, start, goal = options["board"] if "board" in options else self._draw()
        self.pawns = np.asarray(pawns, bool)
        self.start, self.goal = tuple(int(v) for v in start), tuple(int(v) for v in goal)
        best = plan(self.pawns, self.start, self.goal, self.table.values())
        self.limit = self.rules.trial_steps if best is None else trial_limit(best.steps, self.rules)
        self.pos = self.start
        self.instance = np.asarray(
            options.get("instance", self.np_random.integers(0, 1 << 30, 10)), np.int64
        )
        self.trial, self.t = 0, 0
        self.trial_steps: list[int] = []
        self.trial_success: list[bool] = []
        self.potential = (
            -distance_map(self.pawns, self.goal, self.table.values(), unreachable=self.pawns.size)
            if self.rules.shaping
            else np.zeros(self.pawns.shape)
        )
        return self._obs(), self._info(valid=True)

    def _obs(self) -> np.ndarray:
        sym = visible_symbols(panel_symbols(self.pawns, self.pos, self.goal)[None], self.rules)[0]
        if self.observation == "symbols":
            return sym
        return render(sym[None], self.instance[None], self.pool, self.rules.show_goal)[0]

    def _info(self, valid: bool) -> dict[str, Any]:
        return {
            "valid": valid,
            "trial": self.trial,
            "trial_steps": list(self.trial_steps),
            "trial_success": list(self.trial_success),
            "pos": self.pos,
        }

    def step(self, action: int):
        r = self.rules
        d, n = int(self.table.direction[action]), int(self.table.value[action])
        target = move_target(self.pawns, self.pos, d, n) if n > 0 else None
        moved = self.pos if target is None else target
        reward = r.step_reward + r.shaping * (self.potential[moved] - self.potential[self.pos])
        reward += (target is None) * r.invalid_penalty
        reached = moved == self.goal
        reward += reached * r.goal_reward
        self.t += 1
        self.pos = moved
        if reached or self.t >= self.limit:
            self.trial_steps.append(self.t)
            self.trial_success.append(reached)
            self.trial, self.t, self.pos = self.trial + 1, 0, self.start
        terminated = self.trial >= r.trials
        return self._obs(), float(reward), terminated, False, self._info(target is not None)

    def render(self) -> np.ndarray:
        """The panel the agent sees, (3s, 3s, 3) uint8 (an rgb_array)."""
        if self.pool is None:
            raise gym.error.Error("render() needs a DigitPool")
        sym = visible_symbols(panel_symbols(self.pawns, self.pos, self.goal)[None], self.rules)
        panel = render(sym, self.instance[None], self.pool, self.rules.show_goal)[0]
        return panel.transpose(1, 2, 0)
