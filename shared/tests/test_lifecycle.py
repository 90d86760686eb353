"""reprokit.lifecycle: identity, resume after SIGTERM, refused checkpoints, divergence, errors."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import _lifecycle_tiny as tiny
import numpy as np
import pytest
import torch

from reprokit.atomic import atomic_path
from reprokit.config import ConfigError, param, parse
from reprokit.errors import CheckpointError, UserError
from reprokit.lifecycle import (
    Session,
    check_device,
    check_file,
    config_diff,
    config_hash,
    entry,
    load_result,
    report_target,
    save_result,
)
from reprokit.testing import interrupt_python, run_entry
from reprokit.torch_utils import Checkpointer

HERE = Path(__file__).resolve().parent
TINY = str(HERE / "_lifecycle_tiny.py")


def _tiny(tmp_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    """The tiny reproduce in-process, through the real entry(): (exit code, stdout, stderr)."""
    argv = ["--out", str(tmp_path / "report"), *args]
    code = run_entry("tiny.reproduce", tiny.run, argv, tmp_path / "runs")
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "report" / "metrics.json").read_text())


def _session_state(tmp_path: Path) -> dict:
    (state,) = (tmp_path / "runs" / "tiny" / "cpu").glob("*/session.json")
    return json.loads(state.read_text())


@pytest.mark.parametrize(("sig", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_signal_mid_unit_then_rerun_equals_an_uninterrupted_run(tmp_path, capsys, sig, code):
    assert _tiny(tmp_path / "a", capsys)[0] == 0
    expected = _report(tmp_path / "a")

    b = tmp_path / "b"
    got, out, err = _tiny(b, capsys, "--signal_at", "7", "--signal", sig)
    assert got == code, err
    last = err.strip().splitlines()[-1]
    assert f"interrupted by {sig} at seed 1 step 7" in last and "rerun the same command" in last
    assert _session_state(b)["status"] == "interrupted"
    assert _session_state(b)["units"] == {"seed0": "finished", "seed1": "running"}
    # same command again (the stop hook is part of the config, so it is passed again; it fires
    # only at step 7, which the resumed unit does not recompute)
    got, out, err = _tiny(b, capsys, "--signal_at", "7", "--signal", sig)
    assert got == 0, err
    assert "seed 0 step" not in out and "seed 1 start 7" in out
    assert _report(b) == expected  # bit-identical final losses
    assert _session_state(b)["status"] == "finished"


def test_external_sigterm_then_rerun_resumes_and_matches(tmp_path, capsys):
    assert _tiny(tmp_path / "a", capsys)[0] == 0
    expected = _report(tmp_path / "a")
    b = tmp_path / "b"
    env = {"REPROKIT_RUNS": str(b / "runs")}
    args = (TINY, "--out", str(b / "report"), "--pause_at", "7")
    first = interrupt_python(*args, src=HERE, when="seed 1 step 7", env=env)
    assert first.returncode == 143, first.stderr
    assert "interrupted by SIGTERM at seed 1 step 7" in first.stderr
    assert _session_state(b)["status"] == "interrupted"
    got, out, err = _tiny(b, capsys, "--pause_at", "7")
    assert got == 0, err
    assert "-- unit seed0: finished earlier, result reused" in out
    assert "seed 0 step" not in out  # the finished unit is not recomputed
    assert "seed 1 start 7" in out
    assert _report(b) == expected  # bit-identical final losses
    assert _session_state(b)["status"] == "finished"


def test_fresh_starts_over(tmp_path, capsys):
    assert _tiny(tmp_path, capsys)[0] == 0
    code, out, _ = _tiny(tmp_path, capsys, "--fresh")
    assert code == 0 and "reused" not in out and "seed 0 step 1" in out


def test_divergence_stops_with_one_line_and_keeps_the_checkpoint(tmp_path, capsys):
    code, _, err = _tiny(tmp_path, capsys, "--diverge_at", "12")
    assert code == 1
    assert (
        err.strip().splitlines()[-1].startswith("tiny.reproduce: diverged: loss is nan at step 12")
    )
    assert "Traceback" not in err
    assert _session_state(tmp_path)["status"] == "diverged"
    (unit,) = (tmp_path / "runs" / "tiny" / "cpu").glob("*/units/seed1")
    assert Checkpointer(unit / "checkpoints").latest()["step"] == 10  # really kept


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--seeds", ""), "--seeds: must not be empty"),
        (("--lr", "inf"), "--lr: must be a finite number"),
        (("--lr", "nan"), "--lr: must be a finite number"),
        (("--stepz", "3"), "unknown option --stepz"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    code, _, err = _tiny(tmp_path, capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "runs").exists()  # refused before any compute


def test_overridden_run_leaves_the_committed_results_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("REPROKIT_RUNS", str(tmp_path / "runs"))
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'tiny'\n")

    @dataclass
    class Cfg:
        steps: int = param(3, "steps")
        out: str | None = param(None, "report folder")

    profiles = {"cpu": Cfg(), "smoke": Cfg(steps=1)}
    anchor = project / "src" / "x.py"
    for argv, committed, where in (
        ([], True, project / "results" / "cpu"),
        (["--steps", "2"], False, None),
        (["--profile", "smoke"], False, project / "results" / "smoke"),
    ):
        profile, cfg = parse(profiles, argv)
        with Session("tiny", profile, cfg) as s:
            t = report_target("tiny", profile, cfg, profiles, anchor, s)
        assert t.committed is committed
        if where is not None:
            assert t.dir == where
        else:
            assert t.dir == s.dir / "report" and "steps 3 vs 2" in t.why and "untouched" in t.why
    assert report_target("tiny", "cpu", Cfg(), profiles, anchor, s, out=tmp_path / "o").dir == (
        tmp_path / "o"
    )


def test_checkpoint_of_another_config_or_model_is_refused_with_one_line(tmp_path):
    model = torch.nn.Linear(3, 2)
    Checkpointer(tmp_path, config={"steps": 30, "lr": 0.1}).save(5, {"model": model.state_dict()})
    other = Checkpointer(tmp_path, config={"steps": 20, "lr": 0.1})
    with pytest.raises(CheckpointError, match=r"another config \(differs in steps 30 vs 20\)"):
        other.resume(model)
    same = Checkpointer(tmp_path, config={"steps": 30, "lr": 0.1})
    with pytest.raises(CheckpointError, match="does not fit this model") as e:
        same.resume(torch.nn.Linear(4, 2))
    assert "\n" not in str(e.value)
    (tmp_path / "ckpt_000000005.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="corrupt"):
        same.resume(model)


def test_session_identity_and_a_foreign_state_file(tmp_path):
    @dataclass
    class Cfg:
        steps: int = param(3, "steps")
        out: str | None = param(None, "output folder (not identity)")

    assert config_hash(Cfg()) == config_hash(Cfg(out="elsewhere"))
    assert config_hash(Cfg()) != config_hash(Cfg(steps=4))
    assert config_diff({"a": {"b": 1}, "c": 2}, {"a": {"b": 3}, "c": 2}) == "a.b 1 vs 3"
    with Session("p", "cpu", Cfg(), root=tmp_path) as s:
        pass
    state = json.loads((s.dir / "session.json").read_text())
    state["config_hash"] = "0" * 64
    state["config"] = {"steps": 9}
    (s.dir / "session.json").write_text(json.dumps(state))
    with pytest.raises(CheckpointError, match="another config"):
        Session("p", "cpu", Cfg(), root=tmp_path)


def test_unit_results_round_trip_exactly(tmp_path):
    value = {"x": 0.1 + 0.2, "nan": float("nan"), "a": np.arange(6.0).reshape(2, 3), "l": [1, "s"]}
    save_result(tmp_path, value)
    back = load_result(tmp_path)
    assert back["x"] == value["x"] and np.isnan(back["nan"]) and back["l"] == [1, "s"]
    np.testing.assert_array_equal(back["a"], value["a"])
    (tmp_path / "result.json").write_text("{")
    with pytest.raises(CheckpointError, match="unreadable"):
        load_result(tmp_path)


def test_entry_exit_codes(capsys):
    def user_error(argv, fresh):
        raise UserError("data.path: /x.hdf5 does not exist")

    with pytest.raises(SystemExit) as e:
        entry("p.reproduce", user_error, [])
    assert e.value.code == 2
    assert capsys.readouterr().err == "p.reproduce: error: data.path: /x.hdf5 does not exist\n"

    def config_error(argv, fresh):
        raise ConfigError("--x: must be > 0, got -1")

    with pytest.raises(SystemExit) as e:
        entry("p.reproduce", config_error, [])
    assert e.value.code == 2

    seen = {}

    def ok(argv, fresh):
        seen.update(argv=argv, fresh=fresh)

    with pytest.raises(SystemExit) as e:
        entry("p.reproduce", ok, ["--a", "1", "--fresh"])
    assert e.value.code == 0 and seen == {"argv": ["--a", "1"], "fresh": True}

    def bug(argv, fresh):
        raise KeyError("unexpected")

    with pytest.raises(KeyError):  # an unexpected exception keeps its traceback
        entry("p.reproduce", bug, [])


def test_preflight_checks(tmp_path):
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert check_file(f, "weights", sha256=sha) == f
    with pytest.raises(UserError, match="has SHA-256"):
        check_file(f, "weights", sha256="0" * 64)
    with pytest.raises(UserError, match="does not exist"):
        check_file(tmp_path / "nope", "--data.path")
    assert check_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA device"):
            check_device("cuda")
        assert check_device("auto") == "cpu"


def test_atomic_writes_get_the_normal_file_mode(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "x.json") as tmp:
            tmp.write_text("{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o644


def test_error_inside_a_progress_loop_gets_its_own_line(tmp_path, capsys):
    from reprokit.runlog import Run

    def run(argv, fresh):
        with Run("p", "cpu", root=tmp_path) as r:
            for i in r.progress(range(5), desc="train", mininterval=0):
                if i == 2:
                    raise UserError("data.path: bad file")

    with pytest.raises(SystemExit):
        entry("p.reproduce", run, [])
    err = capsys.readouterr().err
    assert "\np.reproduce: error: data.path: bad file\n" in err
