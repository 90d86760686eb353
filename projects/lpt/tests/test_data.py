"""Maze2D generator, D4RL round trip through reprokit, trajectory batching, bad files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from lpt.configs import DataCfg
from lpt.data import check_env, load_trajectories, maze_of, to_trajectories
from lpt.maze2d import (
    WaypointController,
    eval_spec,
    generate_dataset,
    make_env,
    relabel_rewards,
)

from reprokit.offline_rl import D4RLFormatError, load_d4rl


@pytest.fixture(scope="module")
def small_cfg(tmp_path_factory) -> DataCfg:
    import os

    os.environ["REPROKIT_DATA"] = str(tmp_path_factory.mktemp("data"))
    return DataCfg(n_steps=1500, max_segment=60)


def test_relabel_uses_fixed_goal_radius():
    goal = np.array([1.0, 1.0])
    pos = np.array([[1.0, 1.4], [1.0, 1.6], [0.0, 0.0]])
    assert relabel_rewards(pos, goal).tolist() == [1.0, 0.0, 0.0]


def test_controller_reaches_goal_without_noise():
    env = make_env("umaze", 0)
    ctrl = WaypointController(env)
    goal = eval_spec("umaze", 300, env).goal_xy
    obs = env.reset(
        seed=0, options={"goal_cell": np.array([1, 1]), "reset_cell": np.array([3, 1])}
    )[0]["observation"]
    for _ in range(300):
        obs = env.step(ctrl.act(obs, goal)[0])[0]["observation"]
    assert np.linalg.norm(obs[:2] - goal) < 0.5


def test_generator_file_is_read_by_shared_loader(small_cfg):
    trajs, path = load_trajectories(small_cfg)
    data = load_d4rl(path)
    assert data["observations"].shape == (1500, 4) and data["actions"].shape == (1500, 2)
    assert "infos/goal" in data and not data["terminals"].any()
    assert trajs.n == int(data["timeouts"].sum()) or trajs.n == int(data["timeouts"].sum()) - 1
    assert trajs.lengths.max() <= small_cfg.max_segment
    np.testing.assert_allclose(trajs.returns.sum(), data["rewards"][: trajs.lengths.sum()].sum())
    again, _ = load_trajectories(small_cfg)  # cached: identical
    assert np.array_equal(again.returns, trajs.returns)


def test_generator_is_seeded():
    a = generate_dataset("umaze", 200, 50, 0.5, 3)
    b = generate_dataset("umaze", 200, 50, 0.5, 3)
    c = generate_dataset("umaze", 200, 50, 0.5, 4)
    assert np.array_equal(a["actions"], b["actions"]) and not np.array_equal(
        a["actions"], c["actions"]
    )
    assert np.abs(a["actions"]).max() <= 1.0


def test_batch_is_whole_right_padded_trajectories(small_cfg):
    trajs, _ = load_trajectories(small_cfg)
    idx = np.array([0, 1, 2])
    b = trajs.batch(idx)
    T = trajs.lengths[idx].max()
    assert b["states"].shape == (3, T, 4) and b["mask"].shape == (3, T)
    assert b["mask"].sum(1).tolist() == trajs.lengths[idx].tolist()
    np.testing.assert_allclose(
        b["y"].numpy(), trajs.returns[idx] / small_cfg.return_scale, rtol=1e-6
    )
    assert set(b) == {"states", "actions", "mask", "y", "idx"}  # no step rewards / RTG


def test_sampling_proportional_to_length():
    arrays = {
        "observations": np.zeros((12, 4)),
        "actions": np.zeros((12, 2)),
        "rewards": np.zeros(12),
        "terminals": np.zeros(12, bool),
        "timeouts": np.array([0, 1] + [0] * 9 + [1], bool),
    }
    trajs = to_trajectories(arrays, 1.0)
    counts = np.bincount(trajs.sample(np.random.default_rng(0), 4000), minlength=2)
    assert abs(counts[1] / 4000 - 10 / 12) < 0.03


def test_missing_keys_and_unknown_env(tmp_path):
    bad = tmp_path / "bad.hdf5"
    with h5py.File(bad, "w") as f:
        f["observations"] = np.zeros((5, 4))
    with pytest.raises(D4RLFormatError, match="missing key"):
        load_trajectories(DataCfg(path=bad))
    with pytest.raises(ValueError, match="not a maze2d environment"):
        maze_of("halfcheetah")
    with pytest.raises(ValueError, match="unknown environment 'antmaze'"):
        check_env("antmaze")
