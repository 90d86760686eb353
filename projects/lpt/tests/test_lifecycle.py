"""The run lifecycle of ``python -m lpt.reproduce``: SIGTERM mid-run and resume, reuse of finished
units, and committed results written only by an unmodified profile."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from lpt.reproduce import PROG, run

from reprokit.lifecycle import entry
from reprokit.testing import interrupt_python, run_python

SRC = Path(__file__).resolve().parents[1] / "src"
PROJECT = SRC.parent
# Two seeds, three methods, 20 steps: seed1 is stopped mid-training and resumed.
ARGS = ("--profile", "smoke", "--seeds", "0", "1", "--methods", "lpt", "dt", "bc")
ARGS += ("--train.steps", "20", "--eval.speed_steps", "0")
SLOW = {"timeout": 400}  # a whole smoke run; on cores shared with other jobs it can take minutes


def _same_numbers(a: dict, b: dict) -> None:
    """Every metric (timings aside) and every claim of two metrics.json documents are equal."""
    timing = lambda d: {k: v for k, v in d["metrics"].items() if not k.startswith("speed/")}  # noqa: E731
    assert timing(a) == timing(b)
    assert a["claims"] == b["claims"] and a["gates"] == b["gates"]


def test_sigterm_then_rerun_equals_an_uninterrupted_run(tmp_path):
    env = {"REPROKIT_DATA": str(tmp_path / "data"), "REPROKIT_RUNS": str(tmp_path / "runs")}
    full = run_python(
        "-m", "lpt.reproduce", *ARGS, "--out", str(tmp_path / "full"), src=SRC, env=env, **SLOW
    )
    assert full.returncode == 0, full.stderr[-2000:]
    out = ("--out", str(tmp_path / "resumed"))
    stopped = interrupt_python(
        "-m", "lpt.reproduce", *ARGS, *out, "--fresh", src=SRC, env=env, when="-- unit seed1"
    )
    assert stopped.returncode == 143, stopped.stderr[-2000:]
    last = stopped.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{PROG}: interrupted by SIGTERM at seed 1 ") and "--fresh" in last
    assert "Traceback" not in stopped.stderr
    session = next((tmp_path / "runs/lpt/smoke").iterdir())
    assert json.loads((session / "session.json").read_text())["status"] == "interrupted"
    assert list((session / "units/seed1/checkpoints/lpt").glob("ckpt_*.pt"))
    resumed = run_python("-m", "lpt.reproduce", *ARGS, *out, src=SRC, env=env, **SLOW)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "-- unit seed0: finished earlier, result reused" in resumed.stdout
    docs = [json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("full", "resumed")]
    _same_numbers(*docs)
    assert min(docs[1]["metrics"]["speed/train_iters_per_s/lpt"]["values"]) > 0


def _digest(paths: list[Path]) -> dict[str, str]:
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*")))]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


TINY_CPU = [  # the smoke sizes on a cpu profile: an overridden (not committed) run
    *("--data.n_steps", "2000", "--data.max_segment", "40", "--data.ref_episodes", "3"),
    *("--model.h", "16", "--model.n_head", "2", "--model.window", "8", "--langevin.n_test", "3"),
    *("--train.steps", "3", "--train.batch_size", "4", "--eval.n_episodes", "2"),
    *("--eval.speed_steps", "0", "--seeds", "0", "--methods", "lpt", "dt"),
]


HORIZON = {"cpu": ("--eval.horizon", "80"), "cpu-maze2d-medium": ()}  # medium: 600 steps


@pytest.mark.parametrize("profile", ["cpu", "cpu-maze2d-medium"])
def test_overridden_cpu_run_leaves_committed_results_alone(profile, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REPROKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("REPROKIT_RUNS", str(tmp_path / "runs"))
    committed = [PROJECT / "RESULTS.md", PROJECT / "results" / "cpu"]
    before = _digest(committed)
    for _ in ("first run", "rerun"):
        with pytest.raises(SystemExit) as e:
            entry(PROG, run, ["--profile", profile, *TINY_CPU, *HORIZON[profile]])
        out = capsys.readouterr().out
        assert e.value.code == 0
        assert "overrides given" in out and "untouched" in out
    assert "-- unit seed0: finished earlier, result reused" in out  # the rerun reused the unit
    assert _digest(committed) == before
    prefix = "" if profile == "cpu" else "maze2d_medium_"
    assert list((tmp_path / "runs/lpt" / profile).glob(f"*/report/{prefix}metrics.json"))
