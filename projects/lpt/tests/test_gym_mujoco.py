"""Gym-MuJoCo evaluation episodes and the per-environment paper profiles on D4RL-format files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lpt.configs import PAPER_TABLE, PROFILES
from lpt.data import load_trajectories
from lpt.experiment import _spec_and_refs
from lpt.gym_mujoco import D4RL_REF, MujocoBatch, MujocoSpec
from lpt.train import build_model, total_steps, train

from reprokit.offline_rl import write_d4rl

DIMS = {"halfcheetah": (17, 6), "hopper": (11, 3), "walker2d": (17, 6)}


def fake_d4rl(path, env: str, n_traj: int = 6, T: int = 15) -> None:
    """A D4RL-v2-shaped file (observations, actions, rewards, terminals, timeouts)."""
    obs_dim, act_dim = DIMS[env]
    rng = np.random.default_rng(0)
    N = n_traj * T
    obs = rng.normal(size=(N + 1, obs_dim)).astype(np.float32)
    write_d4rl(
        path,
        {
            "observations": obs[:-1],
            "next_observations": obs[1:],
            "actions": rng.uniform(-1, 1, (N, act_dim)).astype(np.float32),
            "rewards": rng.normal(3, 1, N).astype(np.float32),
            "terminals": np.zeros(N, bool),
            "timeouts": np.arange(N) % T == T - 1,
        },
    )


def test_hopper_episode_freezes_after_termination():
    batch = MujocoBatch(MujocoSpec("hopper", 200), [0, 1])
    obs = batch.reset()
    assert obs.shape == (2, 11)
    rng = np.random.default_rng(0)
    for _ in range(200):  # violent random actions make the hopper fall quickly
        obs, r = batch.step(rng.uniform(-1, 1, (2, 3)) * 3)
        if batch.done.all():
            break
    assert batch.done.all()
    frozen, r = batch.step(np.ones((2, 3)))
    assert np.array_equal(frozen, obs) and not r.any()


@pytest.mark.parametrize("env", ["halfcheetah", "hopper", "walker2d"])
def test_paper_profile_reads_d4rl_file_and_takes_two_steps(env, tmp_path):
    path = tmp_path / f"{env}-medium-replay-v2.hdf5"
    fake_d4rl(path, env)
    cfg = PROFILES[f"paper-{env}"]()
    layers, heads, h, window, lr, scale, target, horizon = PAPER_TABLE[env]
    assert scale == 1000.0
    assert (cfg.model.n_layer, cfg.model.n_head, cfg.model.h, cfg.model.window) == (
        layers,
        heads,
        h,
        window,
    )
    assert cfg.train.lr == lr and cfg.data.return_scale == scale and cfg.eval.target == target
    assert cfg.train.batch_size == 500 and cfg.train.epochs == 2000 and horizon == 1000
    cfg.data.path = path
    data, _ = load_trajectories(cfg.data)
    assert (data.obs_dim, data.act_dim) == DIMS[env] and data.n == 6
    spec, refs = _spec_and_refs(cfg)
    assert refs == D4RL_REF[env] and spec.horizon == 1000
    model = build_model("lpt", cfg.model, *DIMS[env])
    assert len(model.transformer.blocks) == layers and model.transformer.window == window
    cfg.train.epochs, cfg.train.batch_size = 1, 3  # one epoch of 6 trajectories = 2 steps
    assert total_steps(cfg.train, data.n) == 2
    res = train("lpt", cfg, data, seed=0, device=torch.device("cpu"))
    assert len(res.history["step"]) == 2 and np.isfinite(res.history["loss"]).all()


def test_hopper_needs_a_d4rl_file():
    cfg = PROFILES["paper-hopper"]()
    with pytest.raises(ValueError, match=r"--data\.path"):
        load_trajectories(cfg.data)
