"""Tests for reprokit.offline_rl: D4RL hdf5 I/O, episodes, returns, scores and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from reprokit.offline_rl import (
    REF_SCORES,
    D4RLFormatError,
    episode_returns,
    load_d4rl,
    normalized_score,
    split_episodes,
    write_d4rl,
)


def _dataset() -> dict[str, np.ndarray]:
    """10 transitions: episode A ends by timeout at 2, B by terminal at 6, C is partial (7-9)."""
    n = 10
    obs = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    terminals = np.zeros(n, bool)
    timeouts = np.zeros(n, bool)
    timeouts[2] = True
    terminals[6] = True
    return {
        "observations": obs,
        "actions": np.ones((n, 2), np.float32),
        "next_observations": obs + 1,
        "rewards": np.arange(n, dtype=np.float32),
        "terminals": terminals,
        "timeouts": timeouts,
        "infos/qpos": np.zeros((n, 2)),
        "infos/goal": np.ones((n, 2)),
    }


def test_roundtrip_and_episodes(tmp_path):
    path = write_d4rl(tmp_path / "d.hdf5", _dataset())
    with h5py.File(path) as f:
        assert set(f.keys()) == {
            "observations",
            "actions",
            "next_observations",
            "rewards",
            "terminals",
            "timeouts",
            "infos",
        }
        assert set(f["infos"].keys()) == {"qpos", "goal"}
    data = load_d4rl(path)
    ref = _dataset()
    for k, v in ref.items():
        np.testing.assert_array_equal(data[k], v)
    assert data["terminals"].dtype == bool
    eps = split_episodes(data)
    assert [len(e["rewards"]) for e in eps] == [3, 4, 3]
    np.testing.assert_array_equal(eps[1]["observations"], ref["observations"][3:7])
    assert eps[2]["infos/goal"].shape == (3, 2)
    assert not eps[2]["terminals"].any() and not eps[2]["timeouts"].any()
    np.testing.assert_allclose(episode_returns(data), [0 + 1 + 2, 3 + 4 + 5 + 6, 7 + 8 + 9])


def test_nested_infos_and_no_trailing_partial(tmp_path):
    d = _dataset()
    infos = {"qpos": d.pop("infos/qpos"), "goal": d.pop("infos/goal")}
    d["timeouts"][9] = True
    write_d4rl(tmp_path / "d.hdf5", {**d, "infos": infos})
    data = load_d4rl(tmp_path / "d.hdf5")
    assert "infos/qpos" in data
    assert len(split_episodes(data)) == 3
    np.testing.assert_allclose(episode_returns(data), [3, 18, 24])


def _write_raw(path, d):
    with h5py.File(path, "w") as f:
        for k, v in d.items():
            f.create_dataset(k, data=v)


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (lambda d: d.pop("timeouts"), "missing key 'timeouts'"),
        (lambda d: d.__setitem__("rewards", np.zeros(9)), "'rewards' has length 9"),
        (lambda d: d.__setitem__("rewards", np.zeros((10, 1))), "'rewards' must have rank 1"),
        (lambda d: d.__setitem__("actions", np.zeros(10)), "'actions' must have rank 2"),
        (lambda d: d.__setitem__("infos/qpos", np.zeros((8, 2))), "'infos/qpos' has length 8"),
        (lambda d: d.__setitem__("next_observations", np.zeros((10, 4))), "'next_observations'"),
    ],
)
def test_malformed_files(tmp_path, mutate, pattern):
    d = _dataset()
    mutate(d)
    path = tmp_path / "bad.hdf5"
    _write_raw(path, d)
    with pytest.raises(D4RLFormatError, match=pattern) as e:
        load_d4rl(path)
    assert "bad.hdf5" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(D4RLFormatError, match=pattern):
        write_d4rl(tmp_path / "out.hdf5", d)
    assert not (tmp_path / "out.hdf5").exists()


def test_not_hdf5_and_missing(tmp_path):
    (tmp_path / "x.hdf5").write_text("nope")
    with pytest.raises(D4RLFormatError, match="not a readable hdf5"):
        load_d4rl(tmp_path / "x.hdf5")
    with pytest.raises(D4RLFormatError, match="not found"):
        load_d4rl(tmp_path / "y.hdf5")


def test_derive_next_observations(tmp_path):
    d = _dataset()
    d.pop("next_observations")
    _write_raw(tmp_path / "m.hdf5", d)
    with pytest.raises(D4RLFormatError, match="next_observations"):
        load_d4rl(tmp_path / "m.hdf5")
    data = load_d4rl(tmp_path / "m.hdf5", derive_next_observations=True)
    obs = d["observations"]
    np.testing.assert_array_equal(data["next_observations"][0], obs[1])
    np.testing.assert_array_equal(data["next_observations"][2], obs[2])  # timeout: itself
    np.testing.assert_array_equal(data["next_observations"][9], obs[9])


def test_normalized_score():
    assert REF_SCORES["maze2d-umaze-v1"] == (23.85, 161.86)
    assert REF_SCORES["hopper-medium-v2"] == (-20.272305, 3234.3)
    assert REF_SCORES["halfcheetah-expert-v2"] == (-280.178953, 12135.0)
    assert REF_SCORES["walker2d-random-v2"] == (1.629008, 4592.3)
    assert normalized_score("maze2d-umaze-v1", 161.86) == pytest.approx(100.0)
    assert normalized_score("maze2d-umaze-v1", 23.85) == pytest.approx(0.0)
    np.testing.assert_allclose(normalized_score((0.0, 200.0), np.array([50.0, 100.0])), [25, 50])
    with pytest.raises(ValueError, match="maze2d-umaze-v1"):
        normalized_score("maze2d-umaze-v9", 1.0)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "reprokit.offline_rl", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_inspect(tmp_path):
    write_d4rl(tmp_path / "d.hdf5", _dataset())
    r = _cli("inspect", str(tmp_path / "d.hdf5"), "--task", "maze2d-umaze-v1")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["episodes"] == 3 and out["transitions"] == 10
    assert out["return_min"] == 3.0 and out["return_max"] == 24.0
    assert out["return_mean"] == pytest.approx(15.0)
    assert out["normalized_mean"] == pytest.approx(100 * (15 - 23.85) / (161.86 - 23.85))


def test_cli_errors(tmp_path):
    d = _dataset()
    d.pop("rewards")
    _write_raw(tmp_path / "bad.hdf5", d)
    r = _cli("inspect", str(tmp_path / "bad.hdf5"))
    assert r.returncode == 2
    assert "missing key 'rewards'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    r = _cli("inspect", str(tmp_path / "none.hdf5"))
    assert r.returncode == 2 and "not found" in r.stderr
