"""Bad input: one clear line on stderr and the lifecycle's exit code, before any training.

In-process calls of ``reprokit.lifecycle.entry`` with the real ``lpt.reproduce.run`` (fast);
one subprocess checks the real ``python -m lpt.reproduce`` command line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from lpt.configs import PROFILES
from lpt.reproduce import PROG, SUITES, _suite_members, _with_profile, run

from reprokit.config import parse
from reprokit.lifecycle import config_hash, entry
from reprokit.testing import run_python

SRC = Path(__file__).resolve().parents[1] / "src"
# A tiny smoke run: one seed, two methods, no timing (a few seconds once the data is cached).
TINY = ["--profile", "smoke", "--seeds", "0", "--methods", "lpt", "dt", "--eval.speed_steps", "0"]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory) -> dict[str, Path]:
    """Data cache and runs root shared by the table (the data is generated once)."""
    root = tmp_path_factory.mktemp("lpt-cli")
    d = {"data": root / "data", "runs": root / "runs", "files": root / "files"}
    d["files"].mkdir()
    with h5py.File(d["files"] / "missing_keys.hdf5", "w") as f:
        f["observations"] = np.zeros((5, 4))
    (d["files"] / "corrupt.hdf5").write_bytes(b"not an hdf5 file at all")
    with h5py.File(d["files"] / "maze_width.hdf5", "w") as f:  # 4-wide observations
        n = 40
        f["observations"], f["actions"] = np.zeros((n, 4)), np.zeros((n, 3))
        f["rewards"], f["terminals"] = np.zeros(n), np.zeros(n, bool)
        f["timeouts"] = np.arange(n) % 20 == 19
    return d


def _entry(argv: list[str], dirs: dict[str, Path], monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setenv("REPROKIT_DATA", str(dirs["data"]))
    monkeypatch.setenv("REPROKIT_RUNS", str(dirs["runs"]))
    with pytest.raises(SystemExit) as e:
        entry(PROG, run, argv)
    return int(e.value.code), capsys.readouterr().err


def _unit_ckpts(dirs: dict[str, Path], argv: list[str], method: str = "lpt") -> Path:
    """The checkpoint folder of unit seed0 / ``method`` of the session of ``argv``."""
    profile, cfg = parse(PROFILES, argv, prog=PROG)
    return (
        dirs["runs"] / "lpt" / profile / config_hash(cfg)[:12] / "units/seed0/checkpoints" / method
    )


def _corrupt_checkpoint(dirs: dict[str, Path], argv: list[str]) -> None:
    folder = _unit_ckpts(dirs, argv)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ckpt_000000002.pt").write_bytes(b"\x00garbage")


def _foreign_checkpoint(dirs: dict[str, Path], argv: list[str]) -> None:
    """A real checkpoint of the tiny run (model.h 16) dropped into a model.h 32 run's folder."""
    good = ["--profile", "smoke", *TINY[2:], "--train.steps", "2"]
    src = _unit_ckpts(dirs, good)
    if not src.is_dir():  # the table's good run writes them; run it here when selected alone
        with pytest.raises(SystemExit) as e:
            entry(PROG, run, good)
        assert e.value.code == 0
    dst = _unit_ckpts(dirs, argv)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)


F = "{files}/"
BAD = [  # (arguments, setup, exit code, substring of the one line)
    (["--bogus", "1"], None, 2, "--bogus"),
    (["--train.steps", "abc"], None, 2, "--train.steps: expected an integer"),
    (["--train.steps", "0"], None, 2, "--train.steps"),
    (["--train.lr", "inf"], None, 2, "--train.lr: must be a finite number"),
    (["--seeds"], None, 2, "--seeds: must not be empty"),
    (["--methods"], None, 2, "--methods: must not be empty"),
    (["--seeds", "0", "0"], None, 2, "--seeds 0 0: values must be distinct"),
    (["--methods", "lpt", "bogus"], None, 2, "--methods"),
    (["--methods", "lpt", "bc"], None, 2, "methods must include dt"),
    (["--data.env", "antmaze"], None, 2, "--data.env"),
    (["--data.env", "hopper"], None, 2, "hopper has no local data generator"),
    (["--data.path", F + "absent.hdf5"], None, 2, "absent.hdf5: file not found"),
    (["--data.path", F + "corrupt.hdf5"], None, 2, "corrupt.hdf5: not a readable hdf5"),
    (["--data.path", F + "missing_keys.hdf5"], None, 2, "missing key"),
    (
        ["--data.env", "hopper", "--data.path", F + "maze_width.hdf5"],
        None,
        2,
        "observations have width 4, but hopper has 11",
    ),
    (["--data.env", "maze2d-medium"], None, 2, "use a longer --eval.horizon"),
    (["--eval.reference", "nearest"], None, 2, "--eval.reference"),
    (
        ["--data.env", "connect4", "--eval.reference", "matched"],
        None,
        2,
        "--eval.reference matched is defined for Maze2D only",
    ),
    (["--model.h", "18", "--model.n_head", "4"], None, 2, "not divisible by model.n_head 4"),
    (["--device", "cuda"], "no-cuda", 2, "no CUDA device is available"),
    ([*TINY, "--train.steps", "2"], None, 0, ""),  # a good run: writes the checkpoints below
    ([*TINY, "--train.steps", "4"], "corrupt-ckpt", 2, "no readable checkpoint"),
    (
        [*TINY, "--train.steps", "2", "--model.h", "32"],
        "foreign-ckpt",
        2,
        "written by another config (differs in model.h 16 vs 32",
    ),
    (
        [*TINY, "--train.steps", "6", "--train.lr", "1e30", "--train.warmup_frac", "0"],
        None,
        1,
        "diverged: lpt seed 0: loss is nan",
    ),
]
SETUP = {"corrupt-ckpt": _corrupt_checkpoint, "foreign-ckpt": _foreign_checkpoint}


@pytest.mark.parametrize(("args", "setup", "code", "message"), BAD, ids=lambda v: str(v)[:40])
def test_bad_input_is_one_line(args, setup, code, message, dirs, monkeypatch, capsys):
    args = [a.format(files=dirs["files"]) for a in args]
    argv = args if args[:2] == ["--profile", "smoke"] else ["--profile", "smoke", *args]
    if setup == "no-cuda" and torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    monkeypatch.setenv("REPROKIT_DATA", str(dirs["data"]))
    monkeypatch.setenv("REPROKIT_RUNS", str(dirs["runs"]))
    if setup in SETUP:
        SETUP[setup](dirs, argv)
        capsys.readouterr()  # a setup run's output is not the row's
    got, err = _entry(argv, dirs, monkeypatch, capsys)
    assert got == code, err[-2000:]
    assert "Traceback" not in err
    if code:
        last = err.strip().splitlines()[-1]
        assert last.startswith(f"{PROG}: ") and message in last, err[-2000:]
        assert sum(PROG in line for line in err.splitlines()) == 1


def test_command_line_error_is_one_line(tmp_path):
    """The real command: a bad flag fails with one line (before torch is imported)."""
    r = run_python("-m", "lpt.reproduce", "--train.bogus", "1", src=SRC, env={})
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        r.stderr.strip().splitlines()[-1]
    ]
    assert "train.bogus" in r.stderr and "Traceback" not in r.stderr


def test_suite_checks_every_flag_before_running(dirs, monkeypatch, capsys):
    """cpu-full = cpu-halfcheetah, cpu-connect4, cpu-maze2d-medium with the same overrides."""
    assert _suite_members(["--seeds", "0", "--profile=cpu-full"]) == SUITES["cpu-full"]
    assert _suite_members(["--profile", "cpu"]) is None
    argv = ["--profile", "cpu-full", "--seeds", "0"]
    assert _with_profile(argv, "cpu-connect4") == ["--profile", "cpu-connect4", "--seeds", "0"]
    code, err = _entry(["--profile", "cpu-full", "--train.bogus", "1"], dirs, monkeypatch, capsys)
    assert code == 2 and "bogus" in err and "Traceback" not in err
