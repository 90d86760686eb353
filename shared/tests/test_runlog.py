"""reprokit.runlog.Run: run folder, provenance, JSONL, TensorBoard, progress, final metrics."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass

import numpy as np
import pytest

from reprokit.config import param
from reprokit.runlog import Run
from reprokit.seeding import seed_everything


@dataclass
class Cfg:
    lr: float = param(0.1, "learning rate", gt=0)


def test_run_folder_and_files(tmp_path, capsys):
    with Run(project="demo", profile="smoke", config=Cfg(), seed=3, root=tmp_path) as run:
        assert run.dir.parent == tmp_path / "demo" / "smoke"
        assert re.fullmatch(r"\d{8}-\d{6}-3", run.dir.name)
        for step in run.progress(range(5), desc="train"):
            run.log(step, loss=np.float32(1.0 / (step + 1)), acc=0.5)
        run.log(5, {"eval/score": np.float64(2.0)})
        run.finish({"score": np.float64(0.75), "curve": np.arange(3)})
    info = json.loads((run.dir / "run.json").read_text())
    assert info["config"] == {"lr": 0.1} and info["seed"] == 3
    assert info["status"] == "finished" and info["end_time"] and info["wall_time_s"] >= 0
    assert "numpy" in info["packages"] and "reprokit" in info["packages"]
    assert {"host", "cpu", "cpu_count", "python", "gpus"} <= set(info["machine"])
    assert set(info["git"]) == {"commit", "dirty", "code_tree"}
    lines = [json.loads(s) for s in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [0, 1, 2, 3, 4, 5]
    assert lines[1]["loss"] == pytest.approx(0.5) and "time" in lines[1]
    assert lines[-1]["eval/score"] == 2.0
    assert json.loads((run.dir / "metrics.json").read_text()) == {
        "score": 0.75,
        "curve": [0, 1, 2],
    }
    events = list((run.dir / "tb").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    err = capsys.readouterr().err
    assert "train" in err and "loss=" in err  # tqdm bar with latest metrics as postfix


def test_env_root_and_failed_status(tmp_path, monkeypatch):
    monkeypatch.setenv("REPROKIT_RUNS", str(tmp_path / "envroot"))
    with pytest.raises(RuntimeError), Run("demo", "cpu", config={"a": 1}, seed=0) as run:
        raise RuntimeError("boom")
    assert run.dir.parent == tmp_path / "envroot" / "demo" / "cpu"
    info = json.loads((run.dir / "run.json").read_text())
    assert info["status"] == "failed" and "boom" in info["error"]
    second = Run("demo", "cpu", seed=0)  # same second, same seed: a distinct folder
    assert second.dir != run.dir
    second.close()


def test_outside_git_and_no_tensorboard(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not a git checkout
    monkeypatch.delenv("REPROKIT_RUNS", raising=False)
    run = Run("demo", "cpu", seed=1, tensorboard=False)
    info = json.loads((run.dir / "run.json").read_text())
    assert info["git"] == {"commit": None, "dirty": None, "code_tree": None}
    assert run.dir.is_relative_to(tmp_path / "runs")
    assert not (run.dir / "tb").exists()
    run.close()


def test_git_commit_and_dirty(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_COMMITTER_EMAIL": "t@t", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=env)
    monkeypatch.chdir(repo)
    run = Run("demo", "cpu", root=tmp_path / "runs", tensorboard=False)
    info = json.loads((run.dir / "run.json").read_text())
    assert re.fullmatch(r"[0-9a-f]{40}", info["git"]["commit"]) and info["git"]["dirty"] is False
    run.close()


def test_wandb_flag_without_package_is_skipped(tmp_path, monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_wandb(name, *a, **k):
        if name == "wandb":
            raise ImportError("no wandb")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_wandb)
    run = Run("demo", "cpu", root=tmp_path, wandb=True, tensorboard=False)
    assert "wandb is not installed" in capsys.readouterr().err
    run.close()


def test_seed_everything_reproducible():
    import random

    g1 = seed_everything(7)
    a = (random.random(), np.random.rand(), g1.normal())
    g2 = seed_everything(7)
    assert a == (random.random(), np.random.rand(), g2.normal())
    assert a != (random.random(), np.random.rand(), g2.normal())


def test_seed_everything_seeds_torch_when_imported():
    torch = pytest.importorskip("torch")
    seed_everything(11)
    x = torch.rand(3)
    seed_everything(11)
    assert torch.equal(x, torch.rand(3))


def test_run_in_a_fixed_folder_appends_and_counts_starts(tmp_path):
    for expected in (1, 2):
        with Run("p", "cpu", {"a": 1}, seed=0, folder=tmp_path / "unit") as run:
            run.log(expected, loss=0.5)
        info = json.loads((tmp_path / "unit" / "run.json").read_text())
        assert info["starts"] == expected and info["status"] == "closed"
    lines = (tmp_path / "unit" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [1, 2]
