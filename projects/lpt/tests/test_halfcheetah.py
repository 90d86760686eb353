"""HalfCheetah: CEM-gait data generator, D4RL round trip, cpu-halfcheetah wiring, merging."""

from __future__ import annotations

import json

import numpy as np
import pytest
from lpt.configs import PROFILES, DataCfg
from lpt.data import best_generator_theta, load_trajectories
from lpt.halfcheetah import cpg_actions, generate_dataset

from reprokit.claims import validate
from reprokit.offline_rl import load_d4rl
from reprokit.report import claims_table

H = 40


@pytest.fixture(scope="module")
def cheetah_cfg(tmp_path_factory) -> DataCfg:
    import os

    os.environ["REPROKIT_DATA"] = str(tmp_path_factory.mktemp("data"))
    return DataCfg(env="halfcheetah", n_steps=12 * H, max_segment=H, cem_iters=2, cem_pop=8)


def test_cpg_actions_bounded_and_periodic():
    theta = np.concatenate([np.full(6, 2.0), np.zeros(6), np.zeros(6), [1.0]])
    a = cpg_actions(theta, 41, dt=0.05)  # period 1 s = 20 steps
    assert a.shape == (41, 6) and np.abs(a).max() <= 1.0
    np.testing.assert_allclose(a[0], a[20], atol=1e-9)


def test_generator_file_is_read_by_shared_loader(cheetah_cfg):
    trajs, path = load_trajectories(cheetah_cfg)
    data = load_d4rl(path)
    assert data["observations"].shape == (12 * H, 17) and data["actions"].shape == (12 * H, 6)
    assert data["timeouts"].sum() == 12 and not data["terminals"].any()
    assert "infos/policy_level" in data and "infos/noise" in data
    assert trajs.n == 12 and set(trajs.lengths.tolist()) == {H}
    np.testing.assert_allclose(trajs.returns.sum(), data["rewards"].sum(), rtol=1e-5)
    assert best_generator_theta(cheetah_cfg).shape == (19,)


def test_returns_differ_across_quality_levels():
    d = generate_dataset(n_episodes=6, H=60, cem_iters=2, cem_pop=10, noise_levels=(0.0,), seed=0)
    R = d["rewards"].reshape(6, 60).sum(1)
    level = d["policy_level"].reshape(6, 60)[:, 0]
    assert sorted(set(level.tolist())) == [0, 1, 2]
    first, last = R[level == 0].mean(), R[level == 2].mean()
    assert last > first + 5.0, (first, last)  # CEM iterates get better
    noisy = generate_dataset(3, 60, 2, 10, (1.0,), seed=0)  # same gaits, heavy noise
    assert not np.allclose(noisy["rewards"].reshape(3, 60).sum(1), R[:3])


def test_cpu_halfcheetah_profile_smoke_sized(tmp_path, monkeypatch):
    from lpt.reproduce import main

    monkeypatch.setenv("REPROKIT_DATA", str(tmp_path / "data"))
    cfg = PROFILES["cpu-halfcheetah"]()
    assert cfg.data.env == "halfcheetah" and set(cfg.methods) == {"lpt", "dt", "bc"}
    cfg.data.n_steps, cfg.data.max_segment, cfg.data.cem_iters, cfg.data.cem_pop = 240, 20, 1, 4
    cfg.data.ref_episodes = 2
    cfg.model.h, cfg.model.n_head, cfg.model.window, cfg.model.n_layer = 16, 2, 8, 1
    cfg.langevin.n_train, cfg.langevin.n_test = 1, 2
    cfg.train.steps, cfg.train.batch_size, cfg.train.log_every = 2, 4, 1
    cfg.eval.n_episodes, cfg.eval.horizon, cfg.eval.speed_steps = 2, 20, 0
    cfg.eval.sweep_fracs = (0.0, 1.0)
    cfg.seeds = (0, 1, 2)
    cfg.out = tmp_path / "out"
    (cfg.out).mkdir()
    (cfg.out / "metrics.json").write_text('{"maze": "the cpu run\'s document"}')
    main(cfg, "cpu-halfcheetah")
    own = json.loads((cfg.out / "halfcheetah_metrics.json").read_text())
    assert validate(own) == [] and own["profile"] == "cpu-halfcheetah"
    assert {c["id"] for c in own["claims"]} == {"C1", "C2", "C3", "C5"}  # no no-UNet ablation
    assert own["metrics"]["score/oracle"]["n"] == 3 and own["gates"][0]["id"] == "G_oracle"
    maze = json.loads((cfg.out / "metrics.json").read_text())
    assert maze == {"maze": "the cpu run's document"}  # its own document, nothing merged
    assert claims_table(own) in (cfg.out / "halfcheetah_RESULTS.md").read_text()
