"""reprokit.torch_utils: atomic/safe checkpoints, RNG capture, kill-and-resume, NaN guard."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from reprokit.torch_utils import (  # noqa: E402
    Checkpointer,
    CheckpointError,
    DivergenceError,
    capture_rng_state,
    check_finite,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)

SCRIPT = str(Path(__file__).parent / "_train_tiny.py")
STEPS, EVERY = 40, 5


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def _start_and_kill(ckpt, out, sig, after_step, tmp_path):
    """Start the script, send ``sig`` once it printed ``step after_step``; return last step."""
    err_path = tmp_path / f"stderr_{sig}.txt"
    with err_path.open("w") as err:
        p = subprocess.Popen(
            [sys.executable, SCRIPT, str(ckpt), str(out), str(STEPS), str(EVERY), str(after_step)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"},
        )
        last = None
        try:
            for line in p.stdout:
                if line.startswith("step "):
                    last = int(line.split()[1])
                    if last == after_step:
                        p.send_signal(sig)
            p.wait(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
    return p.returncode, last, err_path.read_text()


def test_killed_runs_resume_to_identical_result(tmp_path):
    import _train_tiny

    _train_tiny.main([str(tmp_path / "ref_ckpt"), str(tmp_path / "ref.json"), STEPS, EVERY])
    ref = json.loads((tmp_path / "ref.json").read_text())
    ckpt, out = tmp_path / "ckpt", tmp_path / "out.json"
    # 1) SIGTERM mid-way: the handler checkpoints after the current step and exits 143.
    rc, last, err = _start_and_kill(ckpt, out, signal.SIGTERM, 12, tmp_path)
    assert rc == 143, err
    assert last == 12 and not out.exists()
    assert load_checkpoint(Checkpointer(ckpt).path(last))["step"] == last  # off-schedule save
    # 2) resume, then SIGKILL (no handler runs): the steps after the last checkpoint are lost.
    rc, killed_at, err = _start_and_kill(ckpt, out, signal.SIGKILL, last + 8, tmp_path)
    assert rc == -signal.SIGKILL and killed_at < STEPS and not out.exists(), err
    # 3) resume to the end (in-process).
    _train_tiny.main([str(ckpt), str(out), STEPS, EVERY])
    got = json.loads(out.read_text())
    assert got["losses"] == ref["losses"]  # exact: same seed, CPU, restored RNG states
    assert got["params"] == ref["params"]


def test_save_is_atomic_and_load_is_safe(tmp_path):
    path = tmp_path / "c.pt"
    state = {"model": {"w": torch.arange(3.0)}, "step": 3, "config": {"lr": 0.1}}
    save_checkpoint(path, state)
    assert os.listdir(tmp_path) == ["c.pt"]
    back = load_checkpoint(path)
    assert torch.equal(back["model"]["w"], state["model"]["w"]) and back["step"] == 3
    with pytest.raises(CheckpointError, match=r"missing\.pt does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError, match=r"bad\.pt is corrupt") as e:
        load_checkpoint(bad)
    assert "\n" not in str(e.value)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match=r"evil\.pt"):
        load_checkpoint(tmp_path / "evil.pt")  # weights_only refuses arbitrary pickles


def test_rng_roundtrip(tmp_path):
    rng = np.random.default_rng(5)
    state = capture_rng_state(rng)
    save_checkpoint(tmp_path / "r.pt", {"rng": state})
    first = (random.random(), np.random.rand(), torch.rand(2).tolist(), rng.normal())
    restore_rng_state(load_checkpoint(tmp_path / "r.pt")["rng"], rng)
    assert first == (random.random(), np.random.rand(), torch.rand(2).tolist(), rng.normal())


def test_nan_guard_keeps_last_good_checkpoint(tmp_path):
    ck = Checkpointer(tmp_path / "ck", every=2, keep=2)
    good = {"model": {"w": torch.ones(2)}}
    for step in (2, 4, 6):
        assert ck.due(step)
        ck.save(step, good)
    assert not ck.due(3)
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [
        "ckpt_000000004.pt",
        "ckpt_000000006.pt",
    ]
    with pytest.raises(DivergenceError, match="non-finite"):
        ck.save(8, {"model": {"w": torch.tensor([1.0, float("nan")])}})
    latest = ck.latest()
    assert latest["step"] == 6 and torch.equal(latest["model"]["w"], torch.ones(2))
    with pytest.raises(DivergenceError, match="step 7"):
        check_finite(torch.tensor(float("inf")), 7)
    with pytest.raises(DivergenceError):
        check_finite({"loss": float("nan")}, 1)
    check_finite(torch.tensor(1.0), 1)
    # a corrupt newest checkpoint falls back to the previous one
    ck.path(6).write_bytes(b"garbage")
    assert ck.latest()["step"] == 4
    assert not Checkpointer(tmp_path / "empty").latest()
    assert Checkpointer(tmp_path / "off", enabled=False).save(1, good) is None
