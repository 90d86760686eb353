"""Bad input: one clear line on stderr and a non-zero exit, from the real entry point."""

from __future__ import annotations

import subprocess
from pathlib import Path

import h5py
import numpy as np

from reprokit.testing import run_python

SRC = Path(__file__).resolve().parents[1] / "src"


def _run(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    return run_python("-m", "lpt.reproduce", *args, src=SRC, env={"REPROKIT_DATA": str(tmp)})


def test_unknown_key(tmp_path):
    r = _run("--bogus", "1", tmp=tmp_path)
    assert r.returncode == 2 and "bogus" in r.stderr and "Traceback" not in r.stderr


def test_unknown_env(tmp_path):
    r = _run("--profile", "smoke", "--data.env", "antmaze", tmp=tmp_path)
    assert r.returncode == 2 and "data.env" in r.stderr and "Traceback" not in r.stderr


def test_env_without_local_data(tmp_path):
    r = _run("--profile", "smoke", "--data.env", "hopper", "--out", str(tmp_path), tmp=tmp_path)
    assert r.returncode == 2 and "hopper has no local data generator" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_suite_checks_every_flag_before_running(tmp_path):
    """cpu-full = cpu-halfcheetah, cpu-connect4, cpu-maze2d-medium with the same overrides."""
    from lpt.reproduce import SUITES, _suite_members, _with_profile

    assert _suite_members(["--seeds", "0", "--profile=cpu-full"]) == SUITES["cpu-full"]
    assert _suite_members(["--profile", "cpu"]) is None
    argv = ["--profile", "cpu-full", "--seeds", "0"]
    assert _with_profile(argv, "cpu-connect4") == ["--profile", "cpu-connect4", "--seeds", "0"]
    r = _run("--profile", "cpu-full", "--train.bogus", "1", tmp=tmp_path)
    assert r.returncode == 2 and "bogus" in r.stderr and "Traceback" not in r.stderr


def test_d4rl_file_missing_keys(tmp_path):
    bad = tmp_path / "bad.hdf5"
    with h5py.File(bad, "w") as f:
        f["observations"] = np.zeros((5, 4))
    r = _run(
        "--profile", "smoke", "--data.path", str(bad), "--out", str(tmp_path / "o"), tmp=tmp_path
    )
    assert r.returncode == 2 and "bad.hdf5" in r.stderr and "missing key" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
