"""Maze2D on gymnasium-robotics PointMaze with D4RL's data recipe.

D4RL's ``maze2d`` datasets (Fu et al. 2020, ``scripts/generation/generate_maze2d_datasets.py``)
are one continuous stream of a waypoint controller driving a point mass to random goals with
N(0, 0.5^2) action noise; a segment ends when the controller reaches its goal or after H steps,
and the sparse reward is relabelled to the fixed evaluation goal: r_t = 1[||pos_t - g|| <= 0.5].
Here the physics is gymnasium-robotics ``PointMaze_*-v3`` (same point mass: timestep 0.01,
gear 100, force in [-1, 1]); the controller is our own BFS-over-cells + PD port of D4RL's.

Two segmentations (``SEGMENT_STYLES``):
- ``d4rl`` (the paper-comparable path): every segment ends when the controller reaches its goal.
  Segments aimed at the evaluation goal then end mid-flight, so the high final returns belong to
  segments that *leave* the goal cell, and y = "best return" names the wrong behaviour.
- ``park`` (CPU deviation): a segment whose controller target lies in the evaluation goal cell
  does not end on arrival; the controller parks there until H steps. Its return is then the
  number of steps spent at the goal within an H-step window from its start, which is what an
  H-step evaluation episode scores (set the evaluation horizon to H). Every other segment ends
  on arrival as in D4RL; targets are still random, so the goal is reached from whatever state
  the previous segment left (stitching: no segment starts from every evaluation start).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections import deque
from dataclasses import dataclass

import numpy as np

MAZES = ("umaze", "medium")
SEGMENT_STYLES = ("d4rl", "park")
_ENV_IDS = {"umaze": "PointMaze_UMaze-v3", "medium": "PointMaze_Medium-v3"}
# Fixed evaluation goal cell (row, col) in gymnasium's maze map: one end of the U for UMaze.
EVAL_GOAL_CELL = {"umaze": (1, 1), "medium": (6, 6)}
GOAL_RADIUS = 0.5  # D4RL's sparse-reward radius (gymnasium-robotics uses 0.45)
P_GAIN, D_GAIN, SOLVE_THRESH = 10.0, -1.0, 0.1  # D4RL WaypointController constants


def _gymnasium_robotics():
    """The module, imported without its stderr notice about Adroit reward versions (printed on
    import by gymnasium-robotics 1.2.x-1.4.2; no Adroit environment is used here)."""
    import sys

    if "gymnasium_robotics" not in sys.modules:
        with contextlib.redirect_stderr(io.StringIO()):
            import gymnasium_robotics  # noqa: F401
    return sys.modules["gymnasium_robotics"]


def make_env(maze: str, seed: int):
    """The raw ``PointMazeEnv`` (no TimeLimit; we count steps ourselves)."""
    if maze not in MAZES:
        raise ValueError(f"unknown maze {maze!r}; expected one of {MAZES}")
    os.environ.setdefault("MUJOCO_GL", "disable")
    import gymnasium as gym

    gym.register_envs(_gymnasium_robotics())
    env = gym.make(_ENV_IDS[maze], continuing_task=True, reset_target=False).unwrapped
    env.reset(seed=seed)
    return env


class WaypointController:
    """D4RL-style controller: shortest cell path (BFS) to the target, PD toward the waypoint."""

    def __init__(self, env) -> None:
        self.maze = env.maze
        self.free = [
            (i, j) for i, row in enumerate(self.maze.maze_map) for j, c in enumerate(row) if c != 1
        ]
        self._dist: dict[tuple[int, int], dict[tuple[int, int], int]] = {
            g: self._bfs(g) for g in self.free
        }

    def _bfs(self, goal: tuple[int, int]) -> dict[tuple[int, int], int]:
        dist, queue = {goal: 0}, deque([goal])
        while queue:
            i, j = queue.popleft()
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                n = (i + di, j + dj)
                if n in self.free and n not in dist:
                    dist[n] = dist[(i, j)] + 1
                    queue.append(n)
        return dist

    def cell(self, xy: np.ndarray) -> tuple[int, int]:
        i, j = self.maze.cell_xy_to_rowcol(xy)
        return int(i), int(j)

    def xy(self, cell: tuple[int, int]) -> np.ndarray:
        return np.asarray(self.maze.cell_rowcol_to_xy(np.array(cell)), dtype=np.float64)

    def act(self, obs: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, bool]:
        """obs (4,) = [x, y, vx, vy] -> (action (2,) in [-1, 1], done)."""
        pos, vel = obs[:2], obs[2:4]
        here, goal = self.cell(pos), self.cell(target)
        dist = self._dist[goal]
        if here == goal or here not in dist:
            waypoint = target
        else:
            i, j = here
            nbrs = [(i + di, j + dj) for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1))]
            waypoint = self.xy(min((n for n in nbrs if n in dist), key=dist.__getitem__))
        a = np.clip(P_GAIN * (waypoint - pos) + D_GAIN * vel, -1.0, 1.0)
        return a, bool(np.linalg.norm(pos - target) <= SOLVE_THRESH)


@dataclass
class MazeSpec:
    """Evaluation goal (cell centre, no noise) and episode length of a maze task."""

    maze: str
    goal_xy: np.ndarray
    horizon: int


def eval_spec(maze: str, horizon: int, env=None) -> MazeSpec:
    env = env if env is not None else make_env(maze, 0)
    goal = np.asarray(env.maze.cell_rowcol_to_xy(np.array(EVAL_GOAL_CELL[maze])), np.float64)
    return MazeSpec(maze=maze, goal_xy=goal, horizon=horizon)


def relabel_rewards(positions: np.ndarray, goal_xy: np.ndarray) -> np.ndarray:
    """D4RL relabel_maze2d_rewards: r_t = 1[||pos_t - g|| <= 0.5] for the fixed eval goal."""
    return (np.linalg.norm(positions - goal_xy, axis=-1) <= GOAL_RADIUS).astype(np.float32)


def segment_ends(reached: bool, steps: int, max_segment: int, parks: bool) -> bool:
    """The split rule: a segment ends after H steps, or on arrival unless its target parks it
    (``park`` style, target in the evaluation goal cell)."""
    return steps >= max_segment or (reached and not parks)


def goal_bound(final_positions: np.ndarray, goal_xy: np.ndarray) -> np.ndarray:
    """Segments that end at the evaluation goal (final position within the reward radius): the
    subset that shows "reach the goal" (targets of other cells are >= 0.9 away)."""
    return np.linalg.norm(final_positions - goal_xy, axis=-1) <= GOAL_RADIUS


def starts_like_evaluation(first_positions: np.ndarray, goal_xy: np.ndarray) -> np.ndarray:
    """Segments that start where evaluation episodes start: outside the goal radius (an evaluation
    reset never places the point mass in the goal cell, ``MazeBatch.reset``). The ``matched``
    planning reference is the best of them."""
    return np.linalg.norm(first_positions - goal_xy, axis=-1) > GOAL_RADIUS


def generate_dataset(
    maze: str,
    n_steps: int,
    max_segment: int,
    action_noise: float,
    seed: int,
    style: str = "d4rl",
) -> dict[str, np.ndarray]:
    """D4RL-format arrays from one continuous controller stream (see the module docstring)."""
    if style not in SEGMENT_STYLES:
        raise ValueError(f"unknown segment style {style!r}; expected one of {SEGMENT_STYLES}")
    env = make_env(maze, seed)
    rng = np.random.default_rng(seed)
    ctrl = WaypointController(env)
    spec = eval_spec(maze, 0, env)

    def random_target() -> np.ndarray:
        cell = ctrl.free[rng.integers(len(ctrl.free))]
        return ctrl.xy(cell) + rng.uniform(-0.1, 0.1, size=2)

    goal_cell = tuple(EVAL_GOAL_CELL[maze])

    def parks(target: np.ndarray) -> bool:
        return style == "park" and ctrl.cell(target) == goal_cell

    obs = env.reset(seed=seed)[0]["observation"]
    target, ts = random_target(), 0
    keys = ("observations", "actions", "next_observations", "timeouts", "goals", "qvel")
    buf: dict[str, list] = {k: [] for k in keys}
    for _ in range(n_steps):
        a, done = ctrl.act(obs, target)
        a = np.clip(a + action_noise * rng.standard_normal(2), -1.0, 1.0)
        ts += 1
        end = segment_ends(done, ts, max_segment, parks(target))
        nxt = env.step(a)[0]["observation"]
        for k, v in zip(keys, (obs, a, nxt, end, target.copy(), obs[2:4]), strict=True):
            buf[k].append(v)
        obs = nxt
        if end:
            target, ts = random_target(), 0
    buf["timeouts"][-1] = True  # close the last segment
    out = {k: np.asarray(v, dtype=np.float32) for k, v in buf.items() if k != "timeouts"}
    out["timeouts"] = np.asarray(buf["timeouts"], dtype=bool)
    out["terminals"] = np.zeros(n_steps, dtype=bool)
    # D4RL relabels the state before the action; ``park`` scores the state the action led to,
    # as the evaluation episode (``MazeBatch.step``) does, so both sum the same H states.
    scored = out["next_observations"] if style == "park" else out["observations"]
    out["rewards"] = relabel_rewards(scored[:, :2], spec.goal_xy)
    return out


class MazeBatch:
    """B independent evaluation episodes stepped in lock-step (fixed goal, random start cell)."""

    def __init__(self, spec: MazeSpec, seeds: list[int]) -> None:
        self.spec = spec
        self.envs = [make_env(spec.maze, s) for s in seeds]
        self.seeds = seeds

    def reset(self) -> np.ndarray:
        goal = np.array(EVAL_GOAL_CELL[self.spec.maze])
        obs = [
            e.reset(seed=s, options={"goal_cell": goal})[0]["observation"]
            for e, s in zip(self.envs, self.seeds, strict=True)
        ]
        return np.stack(obs).astype(np.float32)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """actions (B, 2) -> (next obs (B, 4), relabelled rewards (B,)) of the *current* state."""
        obs = np.stack(
            [e.step(a)[0]["observation"] for e, a in zip(self.envs, actions, strict=True)]
        )
        return obs.astype(np.float32), relabel_rewards(obs[:, :2], self.spec.goal_xy)


def reference_returns(spec: MazeSpec, n_episodes: int, seed: int) -> tuple[float, float]:
    """(random-policy return, noise-free controller return) on our environment, as D4RL did."""
    totals = []
    for policy in ("random", "controller"):
        batch = MazeBatch(spec, [seed + 7919 * i for i in range(n_episodes)])
        ctrl, rng = WaypointController(batch.envs[0]), np.random.default_rng(seed)
        obs, R = batch.reset(), np.zeros(n_episodes)
        for _ in range(spec.horizon):
            if policy == "random":
                a = rng.uniform(-1, 1, size=(n_episodes, 2))
            else:
                a = np.stack([ctrl.act(o.astype(np.float64), spec.goal_xy)[0] for o in obs])
            obs, r = batch.step(a)
            R += r
        totals.append(float(R.mean()))
    return totals[0], totals[1]
