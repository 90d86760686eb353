"""The MuJoCo task: gymnasium's Reacher-v5, its scripted expert and batched rollouts.

Reacher-v5 (two-link arm, 50 steps, reward −‖fingertip − target‖ − ‖a‖²) observes
s = (cos q, sin q, target, q̇, fingertip − target) ∈ R¹⁰ and acts with torques a ∈ [−1, 1]².
The expert (the note's "PD/IK controller for Reacher-v5") solves the arm's inverse kinematics for
the target and drives the joints there by PD control; it is generated locally and only its
*states* enter LanMDP's and BCO's learning (its actions feed the BC-with-actions reference).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

os.environ.setdefault("MUJOCO_GL", "disable")  # headless: no rendering is needed

ENV_ID = "Reacher-v5"
LINKS = (0.1, 0.11)  # reacher.xml: link 1 length, fingertip offset on link 2
Policy = Callable[[np.ndarray], np.ndarray]  # states (E, S) → actions (E, A) in [−1, 1]


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


def scripted_expert(kp: float, kd: float) -> Policy:
    """a = clip(kp·(q* − q) − kd·q̇): q* the IK solution (elbow branch nearer the arm)."""
    l1, l2 = LINKS

    def act(s: np.ndarray) -> np.ndarray:
        q, qd, target = np.arctan2(s[:, 2:4], s[:, 0:2]), s[:, 6:8], s[:, 4:6]
        cos_elbow = ((target**2).sum(1) - l1**2 - l2**2) / (2.0 * l1 * l2)
        errors = []
        for branch in (1.0, -1.0):
            elbow = branch * np.arccos(np.clip(cos_elbow, -1.0, 1.0))
            reach = np.arctan2(l2 * np.sin(elbow), l1 + l2 * np.cos(elbow))
            shoulder = np.arctan2(target[:, 1], target[:, 0]) - reach
            errors.append(_wrap(np.stack([shoulder, elbow], 1) - q))
        near = np.abs(errors[0]).sum(1) <= np.abs(errors[1]).sum(1)
        err = np.where(near[:, None], errors[0], errors[1])
        return np.clip(kp * err - kd * qd, -1.0, 1.0)

    return act


def random_policy(rng: np.random.Generator) -> Policy:
    """Uniform random torques (the floor of the normalised return)."""
    return lambda s: rng.uniform(-1.0, 1.0, (len(s), 2))


def zero_policy(s: np.ndarray) -> np.ndarray:
    """No torque: the arm stays where it starts (a second, stronger floor in Reacher)."""
    return np.zeros((len(s), 2))


@dataclass
class Episodes:
    """E episodes of T steps: states (E, T+1, S), actions (E, T, A), returns (E,)."""

    states: np.ndarray
    actions: np.ndarray
    returns: np.ndarray

    def transitions(self) -> Transitions:
        S, A = self.states.shape[-1], self.actions.shape[-1]
        return Transitions(
            self.states[:, :-1].reshape(-1, S),
            self.actions.reshape(-1, A),
            self.states[:, 1:].reshape(-1, S),
        )


@dataclass
class Transitions:
    """Real interaction (s, a, s'), each (N, ·)."""

    s: np.ndarray
    a: np.ndarray
    s_next: np.ndarray

    def __len__(self) -> int:
        return len(self.s)

    def __add__(self, other: Transitions) -> Transitions:
        return Transitions(
            *(np.concatenate([x, y]) for x, y in zip(self.astuple(), other.astuple()))
        )

    def astuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.s, self.a, self.s_next

    def last(self, n: int) -> Transitions:
        """The newest n transitions (a FIFO buffer of size n, as the official code's)."""
        return Transitions(*(x[-n:] for x in self.astuple()))


def rollout(policy: Policy, episodes: int, seed: int) -> Episodes:
    """``episodes`` parallel Reacher-v5 episodes (targets and starts drawn from ``seed``)."""
    import gymnasium as gym

    env = gym.vector.SyncVectorEnv([lambda: gym.make(ENV_ID) for _ in range(episodes)])
    s, _ = env.reset(seed=seed)
    states, actions, rewards = [s], [], []
    done = np.zeros(episodes, dtype=bool)
    while not done.all():
        a = np.clip(np.asarray(policy(s), dtype=np.float64), -1.0, 1.0)
        s, r, term, trunc, _ = env.step(a)
        states.append(s)
        actions.append(a)
        rewards.append(r)
        done |= term | trunc
    env.close()
    return Episodes(
        np.stack(states, 1).astype(np.float32),
        np.stack(actions, 1).astype(np.float32),
        np.sum(rewards, 0),
    )
