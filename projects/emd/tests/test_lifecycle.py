"""The run lifecycle of the real ``emd.reproduce``: SIGTERM and resume, bad input, committed files.

Every run here is the real entry point (``reprokit.lifecycle.entry``) on the smoke shapes, made
smaller by overrides (two seeds of one method: one compiled training program), in-process: the
stopped run gets a real SIGTERM from a watcher thread as soon as its second distillation unit
has started.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from emd.checkpoints import Checkpoints
from emd.configs import PROFILES
from emd.reproduce import PROG, run

from reprokit.config import parse
from reprokit.lifecycle import config_hash, entry

PROJECT = Path(__file__).resolve().parents[1]
# The smoke profile's shapes under the cpu profile's name (so the report is an overridden cpu
# run), two seeds of one method: the cheapest run with an interruptible second unit.
SMOKE_AS_CPU = [
    "--profile", "cpu", "--seeds", "0,1", "--methods", "di",
    "--teacher.hidden", "16", "--teacher.steps", "20", "--teacher.batch", "64",
    "--teacher.sample_steps", "4", "--distill.steps", "4", "--distill.batch", "32",
    "--distill.K", "2", "--eval.n_samples", "200", "--eval.mmd_samples", "100",
    "--eval.chunk", "2", "--eval.timing_samples", "200", "--eval.nfe", "1",
    "--eval.grad_batches", "2", "--eval.kl_chains", "50",
]  # fmt: skip
TINY = ["--seeds", "0", "--methods", "di"]  # on the smoke profile
TIMING = ("steps_per_s/", "sampling_s_per_1000/")  # wall-clock measurements, never equal


def _entry(monkeypatch, capsys, runs: Path, args: list[str]) -> tuple[int, str, str]:
    """The real entry point in-process: (exit code, stdout, stderr)."""
    monkeypatch.setenv("REPROKIT_RUNS", str(runs))
    with pytest.raises(SystemExit) as e:
        entry(PROG, run, args)
    got = capsys.readouterr()
    return e.value.code, got.out, got.err


def _cfg(args: list[str]) -> tuple[str, object]:
    return parse({k: f() for k, f in PROFILES.items()}, args)


def _session(runs: Path, args: list[str]) -> Path:
    profile, cfg = _cfg(args)
    return runs / "emd" / profile / config_hash(cfg)[:12]


def _numbers(doc: dict) -> tuple[dict, list]:
    """A report's metrics (timings left out) and claims."""
    metrics = {k: v for k, v in doc["metrics"].items() if not k.startswith(TIMING)}
    return metrics, doc["claims"]


@contextmanager
def _sigterm_when_exists(path: Path) -> Iterator[None]:
    """Send this process SIGTERM as soon as ``path`` exists (checked every 5 ms)."""
    done = threading.Event()

    def watch() -> None:
        while not path.exists():
            if done.wait(0.005):
                return
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _committed() -> dict[str, str]:
    files = [PROJECT / "RESULTS.md", *sorted((PROJECT / "results" / "cpu").iterdir())]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_sigterm_mid_unit_then_rerun_equals_an_uninterrupted_run(tmp_path, monkeypatch, capsys):
    """Also: an overridden cpu run reports into its session folder, committed files untouched."""
    before = _committed()
    code, out, err = _entry(monkeypatch, capsys, tmp_path / "a", SMOKE_AS_CPU)
    assert code == 0, err
    report = _session(tmp_path / "a", SMOKE_AS_CPU) / "report"
    assert f"report written to {report}" in out and "untouched" in out
    assert _committed() == before
    expected = _numbers(json.loads((report / "metrics.json").read_text()))

    runs = tmp_path / "b"
    session = _session(runs, SMOKE_AS_CPU)
    with _sigterm_when_exists(session / "units" / "di-seed1" / "run.json"):
        code, out, err = _entry(monkeypatch, capsys, runs, SMOKE_AS_CPU)
    assert code == 143, err
    last = err.strip().splitlines()[-1]
    assert "interrupted by SIGTERM in unit di-seed1 after step 2" in last, last
    assert "rerun the same command to resume" in last
    state = json.loads((session / "session.json").read_text())
    assert state["status"] == "interrupted" and state["units"]["di-seed1"] == "running"

    code, out, err = _entry(monkeypatch, capsys, runs, SMOKE_AS_CPU)
    assert code == 0, err
    for unit in ("teacher", "references", "di-seed0"):
        assert f"-- unit {unit}: finished earlier, result reused" in out
    assert "di-seed1: resuming from the checkpoint at step 2" in out
    assert json.loads((session / "session.json").read_text())["status"] == "finished"
    assert _numbers(json.loads((session / "report" / "metrics.json").read_text())) == expected
    assert _committed() == before


# -- the bad-input table: each row's setup returns extra arguments --------------------------------
def _no_setup(tmp_path: Path, runs: Path) -> list[str]:
    return []


def _npz(tmp_path: Path, size: int) -> str:
    path = tmp_path / f"images{size}.npz"
    np.savez(path, x=np.zeros((4, size, size, 3), np.uint8))
    return str(path)


def _corrupt_npz(tmp_path: Path, runs: Path) -> list[str]:
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    return ["--data.path", str(tmp_path / "bad.npz")]


def _images12(tmp_path: Path, runs: Path) -> list[str]:
    return ["--data.path", _npz(tmp_path, 12)]


def _teacher_ckpt(runs: Path, cfg_args: list[str], written_by: list[str]) -> Checkpoints:
    """Write a checkpoint into the teacher unit of ``cfg_args``'s session, stamped with the
    config of ``written_by``."""
    folder = _session(runs, ["--profile", "smoke", *cfg_args]) / "units/teacher/checkpoints"
    ckpt = Checkpoints(folder, _cfg(["--profile", "smoke", *written_by])[1])
    ckpt.save(20, {"params": np.zeros(3, np.float32)}, {"losses": [0.5]})
    return ckpt


def _foreign_checkpoint(tmp_path: Path, runs: Path) -> list[str]:
    _teacher_ckpt(runs, TINY, [*TINY, "--teacher.lr", "0.01"])
    return []


def _corrupt_checkpoint(tmp_path: Path, runs: Path) -> list[str]:
    ckpt = _teacher_ckpt(runs, TINY, TINY)
    (ckpt.dir / "ckpt_000000020.npz").write_bytes(b"garbage")
    return []


def _wrong_model_checkpoint(tmp_path: Path, runs: Path) -> list[str]:
    _teacher_ckpt(runs, TINY, TINY)  # right config, but a pytree of another model
    return []


def _corrupt_session(tmp_path: Path, runs: Path) -> list[str]:
    folder = _session(runs, ["--profile", "smoke", *TINY])
    folder.mkdir(parents=True)
    (folder / "session.json").write_text("{not json")
    return []


IMAGES = ["--data.dataset", "images", "--teacher.arch", "unet"]
BAD_INPUT = [
    # (arguments, setup, exit code, message)
    (["--bogus", "1"], _no_setup, 2, "unknown option --bogus"),
    (["--teacher.steps", "ten"], _no_setup, 2, "--teacher.steps"),
    (["--distill.K", "3"], _no_setup, 2, "--distill.K"),
    (["--distill.gamma_eps", "-0.1"], _no_setup, 2, "--distill.gamma_eps"),
    (["--distill.lr_g", "inf"], _no_setup, 2, "must be a finite number"),
    (["--teacher.lr", "nan"], _no_setup, 2, "must be a finite number"),
    (["--seeds", ""], _no_setup, 2, "--seeds: must not be empty"),
    (["--methods", ""], _no_setup, 2, "--methods: must not be empty"),
    (["--methods", "di,dmd"], _no_setup, 2, "dmd"),
    (["--seeds", "0,0"], _no_setup, 2, "--seeds: [0, 0] names an entry twice"),
    (["--distill.steps", "5"], _no_setup, 2, "must be a multiple of eval.chunk"),
    (["--distill.u_min", "0.9", "--distill.u_max", "0.5"], _no_setup, 2, "u_min must be smaller"),
    (["--data.dataset", "images"], _no_setup, 2, "data.dataset=images needs teacher.arch=unet"),
    (IMAGES, _no_setup, 2, "needs --data.path"),
    ([*IMAGES, "--data.path", "/nonexistent/imagenet64.npz"], _no_setup, 2, "does not exist"),
    (IMAGES, _corrupt_npz, 2, "not a readable .npz file"),
    ([*IMAGES, "--data.image_size", "64"], _images12, 2, "images are 12px, expected"),
    ([*IMAGES, "--data.image_size", "12"], _images12, 2, "image size 12 is not divisible by 2^3"),
    (TINY, _foreign_checkpoint, 2, "written by another config (differs in teacher.lr"),
    (TINY, _corrupt_checkpoint, 2, "is corrupt or not a reprokit pytree"),
    (TINY, _wrong_model_checkpoint, 2, "does not match the target structure"),
    (TINY, _corrupt_session, 2, "session.json is corrupt; rerun with --fresh"),
]


@pytest.mark.parametrize(
    ("args", "setup", "code", "message"), BAD_INPUT, ids=[r[3] for r in BAD_INPUT]
)
def test_bad_input_is_one_line_before_any_training(
    tmp_path, monkeypatch, capsys, args, setup, code, message
):
    runs = tmp_path / "runs"
    extra = setup(tmp_path, runs)
    got, out, err = _entry(monkeypatch, capsys, runs, ["--profile", "smoke", *args, *extra])
    assert got == code and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "-- unit di-seed0" not in out  # refused before any distillation


def test_divergence_stops_with_one_line_and_keeps_the_last_good_checkpoint(
    tmp_path, monkeypatch, capsys
):
    """A huge generator learning rate: inf at step 4; the checkpoint of step 2 stays."""
    args = ["--profile", "smoke", *TINY, "--distill.lr_g", "10", "--distill.steps", "8"]
    code, _, err = _entry(monkeypatch, capsys, tmp_path, args)
    assert code == 1 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(
        "emd.reproduce: diverged: generator gradient norm became inf at step 4 of di-seed0; "
        "the last good checkpoint (step 2)"
    ), last
    session = _session(tmp_path, args)
    assert json.loads((session / "session.json").read_text())["status"] == "diverged"
    kept = Checkpoints(session / "units" / "di-seed0" / "checkpoints", _cfg(args)[1])
    assert kept.last_step() == 2
