"""HalfCheetah-v5 (gymnasium[mujoco]) with a locally generated mixed-quality dataset.

D4RL's halfcheetah datasets come from SAC policies we do not have (and may not download), so the
data here is our own recipe, in D4RL format:

1. An open-loop central-pattern-generator (CPG) gait: a_j(t) = clip(b_j + A_j sin(2π f t·dt + φ_j))
   for the 6 joints, θ = (A, φ, b, f) with 19 numbers.
2. A few rounds of the cross-entropy method (CEM) on θ, maximising the return of H-step episodes.
3. The dataset mixes the CEM mean of every round (early = poor, late = good gaits), each run with
   Gaussian action noise of a few levels, so episode returns span a wide range of quality.

Episodes have H steps (a documented deviation: D4RL uses 1000). Normalized score references are
measured on our environment: the uniform random policy and the best generator policy (noise-free
final CEM mean).
"""

from __future__ import annotations

import numpy as np

from lpt import gym_mujoco

ACT_DIM = 6
N_PARAMS = 3 * ACT_DIM + 1  # A (6), φ (6), b (6), f


def make_env(seed: int):
    """The raw HalfCheetah-v5 env (no TimeLimit; episodes are cut at H steps by the caller)."""
    return gym_mujoco.make_env("halfcheetah", seed)


def cpg_actions(theta: np.ndarray, H: int, dt: float = 0.05) -> np.ndarray:
    """Open-loop gait θ (19,) -> actions (H, 6) in [-1, 1]."""
    A, phi, b, f = theta[:6], theta[6:12], theta[12:18], abs(theta[18])
    t = np.arange(H)[:, None] * dt
    return np.clip(b + A * np.sin(2 * np.pi * f * t + phi), -1.0, 1.0)


def run_episode(env, actions: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Play a fixed action sequence (H, 6) from reset(seed) -> observations, rewards, next obs."""
    obs = env.reset(seed=seed)[0]
    S, R, S2 = [], [], []
    for a in actions:
        nxt, r, *_ = env.step(a)
        S.append(obs)
        R.append(r)
        S2.append(nxt)
        obs = nxt
    return {"observations": np.array(S), "rewards": np.array(R), "next_observations": np.array(S2)}


def cem(env, H: int, n_iters: int, pop: int, n_elite: int, seed: int) -> list[np.ndarray]:
    """Cross-entropy method on θ; returns the mean θ before every round and after the last."""
    rng = np.random.default_rng(seed)
    mu = np.concatenate([np.full(6, 0.5), np.zeros(6), np.zeros(6), [1.5]])
    sd = np.concatenate([np.full(6, 0.5), np.full(6, np.pi), np.full(6, 0.3), [0.7]])
    means = [mu.copy()]
    for _ in range(n_iters):
        cands = mu + sd * rng.standard_normal((pop, N_PARAMS))
        scores = [run_episode(env, cpg_actions(c, H), seed)["rewards"].sum() for c in cands]
        elite = cands[np.argsort(scores)[-n_elite:]]
        mu, sd = elite.mean(0), elite.std(0) + 0.02
        means.append(mu.copy())
    return means


def generate_dataset(
    n_episodes: int,
    H: int,
    cem_iters: int,
    cem_pop: int,
    noise_levels: tuple[float, ...],
    seed: int,
) -> dict[str, np.ndarray]:
    """D4RL-format arrays: n_episodes H-step episodes from a mixture of CEM iterates + noise.

    Also returns ``policy_level`` (CEM round of each transition's policy), ``noise`` (its action
    noise std) and ``best_theta`` (the final CEM mean, the reference "expert").
    """
    env = make_env(seed)
    rng = np.random.default_rng(seed + 1)
    thetas = cem(env, H, cem_iters, cem_pop, max(2, cem_pop // 5), seed)
    keys = ("observations", "actions", "rewards", "next_observations")
    buf: dict[str, list] = {k: [] for k in (*keys, "level", "noise")}
    for i in range(n_episodes):
        level = i % len(thetas)
        sigma = noise_levels[(i // len(thetas)) % len(noise_levels)]
        a = cpg_actions(thetas[level], H)
        a = np.clip(a + sigma * rng.standard_normal(a.shape), -1.0, 1.0)
        ep = run_episode(env, a, seed=int(rng.integers(1 << 31)))
        for k in keys:
            buf[k].append(a if k == "actions" else ep[k])
        buf["level"].append(np.full(H, level))
        buf["noise"].append(np.full(H, sigma))
    out = {k: np.concatenate(buf[k]).astype(np.float32) for k in keys}
    N = n_episodes * H
    out["terminals"] = np.zeros(N, dtype=bool)
    out["timeouts"] = np.zeros(N, dtype=bool)
    out["timeouts"][H - 1 :: H] = True
    out["policy_level"] = np.concatenate(buf["level"]).astype(np.int64)
    out["noise"] = np.concatenate(buf["noise"]).astype(np.float32)
    out["best_theta"] = thetas[-1].astype(np.float64)
    return out


def reference_returns(
    spec: gym_mujoco.MujocoSpec, best_theta: np.ndarray, n_episodes: int, seed: int
) -> tuple[float, float]:
    """(uniform random policy return, noise-free best generator gait return) on our env."""
    env, rng = make_env(seed), np.random.default_rng(seed)
    H = spec.horizon
    rand = [
        run_episode(env, rng.uniform(-1, 1, (H, ACT_DIM)), seed + i)["rewards"].sum()
        for i in range(n_episodes)
    ]
    best = [
        run_episode(env, cpg_actions(best_theta, H), seed + i)["rewards"].sum()
        for i in range(n_episodes)
    ]
    return float(np.mean(rand)), float(np.mean(best))
