"""Gym-MuJoCo locomotion (gymnasium ``*-v5``): evaluation episodes and D4RL reference scores.

D4RL's ``halfcheetah`` / ``hopper`` / ``walker2d`` datasets were collected on the gym ``-v2``
MuJoCo environments; gymnasium's ``-v5`` versions have the same observation layout (17 / 11 / 17
numbers) and reward structure (MuJoCo 3 instead of 2.x; Walker2d-v5 also fixed a foot-friction
asymmetry), so D4RL files can be evaluated on them, with D4RL's normalisation constants as an
approximation (a documented deviation). Hopper and Walker2d end an episode when the robot falls
(``terminated``); ``MujocoBatch`` then freezes that episode: its observation stays, its reward is 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

ENV_IDS = {"halfcheetah": "HalfCheetah-v5", "hopper": "Hopper-v5", "walker2d": "Walker2d-v5"}
# D4RL reference returns (random policy, expert) used by its normalised score (d4rl/infos.py).
D4RL_REF = {
    "halfcheetah": (-280.178953, 12135.0),
    "hopper": (-20.272305, 3234.3),
    "walker2d": (1.629008, 4592.3),
}


def make_env(env: str, seed: int):
    """The raw gymnasium env (no TimeLimit; episodes are cut at H steps by the caller)."""
    if env not in ENV_IDS:
        raise ValueError(f"unknown Gym-MuJoCo environment {env!r}; expected one of {list(ENV_IDS)}")
    os.environ.setdefault("MUJOCO_GL", "disable")
    import gymnasium as gym

    e = gym.make(ENV_IDS[env]).unwrapped
    e.reset(seed=seed)
    return e


@dataclass
class MujocoSpec:
    """Evaluation episodes of at most ``horizon`` steps on one Gym-MuJoCo environment."""

    env: str
    horizon: int


class MujocoBatch:
    """B independent episodes stepped in lock-step (same interface as ``maze2d.MazeBatch``)."""

    def __init__(self, spec: MujocoSpec, seeds: list[int]) -> None:
        self.spec = spec
        self.envs = [make_env(spec.env, s) for s in seeds]
        self.seeds = seeds
        self.done = np.zeros(len(seeds), dtype=bool)
        self.obs: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        obs = [e.reset(seed=s)[0] for e, s in zip(self.envs, self.seeds, strict=True)]
        self.done[:] = False
        self.obs = np.stack(obs).astype(np.float32)
        return self.obs.copy()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """actions (B, act) -> (next obs (B, obs), rewards (B,)); finished episodes are frozen."""
        assert self.obs is not None, "reset() first"
        rewards = np.zeros(len(self.envs))
        for b, (e, a) in enumerate(zip(self.envs, actions, strict=True)):
            if self.done[b]:
                continue
            obs, r, terminated, *_ = e.step(a)
            self.obs[b], rewards[b], self.done[b] = obs, r, terminated
        return self.obs.copy(), rewards
