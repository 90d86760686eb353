"""The entry point: smoke end to end, resume after SIGTERM, bad input, the committed files."""

from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from drc.claims import CLAIMS, GATES
from drc.configs import PROFILES, cpu_long, smoke
from drc.reproduce import (
    LONG,
    PROG,
    preflight,
    report_place,
    run,
)
from PIL import Image

from reprokit.claims import validate
from reprokit.config import parse, to_dict
from reprokit.lifecycle import config_hash, entry
from reprokit.report import claims_table
from reprokit.testing import interrupt_python
from reprokit.torch_utils import Checkpointer

PROJECT = Path(__file__).resolve().parents[1]
SRC = str(PROJECT / "src")
MEASURED = [
    "iou/drc",
    "iou/no_reassign",
    "iou/kmeans",
    "iou/grabcut",
    "iou/allfg",
    "recon_l1/drc",
    "recon_l1/mean_colour",
    "l1_object/fg_expert/drc",
    "l1_object/bg_expert/drc",
    "l1_background/fg_expert/drc",
    "l1_background/bg_expert/drc",
    "warp_displacement_px/drc",
    "iou_train/drc",
]
TIMINGS = ("iters_per_s/", "infer_s_per_image/")  # wall-clock speeds: never equal across runs
SMALL = ["--profile", "smoke", "--seeds", "0,1"]  # four units + the baselines


def reproduce(tmp_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    """`python -m drc.reproduce *args` in-process through the real entry(): (exit, out, err)."""
    os.environ["REPROKIT_RUNS"] = str(tmp_path / "runs")
    with pytest.raises(SystemExit) as e:
        entry(PROG, run, list(args))
    captured = capsys.readouterr()
    return e.value.code, captured.out, captured.err


def session_dir(tmp_path: Path, *args: str) -> Path:
    """The session folder the lifecycle gives `args` (runs root under tmp_path)."""
    profile, cfg = parse({k: f() for k, f in PROFILES.items()}, list(args))
    return tmp_path / "runs" / "drc" / profile / config_hash(cfg)[:12]


def comparable(doc: dict) -> tuple[dict, list]:
    """The metrics (speeds left out) and the claims of a metrics.json document."""
    metrics = {k: v for k, v in doc["metrics"].items() if not k.startswith(TIMINGS)}
    return metrics, doc["claims"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """metrics.json of one uninterrupted SMALL run (the reference of the resume tests)."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    with pytest.MonkeyPatch.context() as mp, pytest.raises(SystemExit) as e:
        mp.setenv("REPROKIT_RUNS", str(tmp / "runs"))
        mp.setenv("REPROKIT_DATA", str(tmp_path_factory.getbasetemp() / "data"))
        entry(PROG, run, [*SMALL, "--out", str(tmp / "o")])
    assert e.value.code == 0
    return json.loads((tmp / "o" / "metrics.json").read_text())


def test_smoke_end_to_end(tmp_path, capsys) -> None:
    """The real entry writes a valid reprokit.metrics/1 document with the declared evidence."""
    code, out, err = reproduce(tmp_path, capsys, "--profile", "smoke", "--out", str(tmp_path))
    assert code == 0, err
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert validate(saved) == []
    assert [c["id"] for c in saved["claims"]] == [c.id for c in CLAIMS]
    assert [g["id"] for g in saved["gates"]] == [g.id for g in GATES]
    assert saved["seeds"] == list(smoke().seeds)
    for k in MEASURED:
        m = saved["metrics"][k]
        vals = m["values"] if "values" in m else [m["value"]]
        assert all(v is not None and np.isfinite(v) for v in vals), k
    assert all(0 <= v <= 1 for v in saved["metrics"]["iou/drc"]["values"])
    # the held-out IoU along the test chain (smoke: 3 steps, scored after 1 and 3)
    trend = saved["metrics"]["iou_after_3_steps/drc"]["values"]
    assert trend == saved["metrics"]["iou/drc"]["values"]
    assert len(saved["metrics"]["iou_after_1_steps/no_reassign"]["values"]) == 3
    assert claims_table(saved) in (tmp_path / "RESULTS.md").read_text()
    assert (tmp_path / "masks.png").exists()
    # header, one line per unit, footer with the verdicts and every path written
    assert "== drc · profile smoke" in out and "expected wall time" in out
    assert "-- unit no_reassign-seed2" in out and "-- unit baselines" in out
    assert "central claim C1" in out and f"wrote {tmp_path / 'metrics.json'}" in out
    # the run folder lives under the runs root, with one folder per unit
    units = session_dir(tmp_path, "--profile", "smoke") / "units"
    assert sorted(p.name for p in units.iterdir())[:2] == ["baselines", "drc-seed0"]
    assert list((units / "drc-seed0" / "checkpoints").glob("ckpt_*.pt"))


def test_external_sigterm_then_rerun_equals_an_uninterrupted_run(
    tmp_path, capsys, uninterrupted
) -> None:
    """SIGTERM from outside once unit drc-seed1 starts: exit 143, one line; the rerun resumes."""
    args = [*SMALL, "--out", str(tmp_path / "o")]
    env = {"REPROKIT_RUNS": str(tmp_path / "runs")}
    first = interrupt_python(
        "-m", "drc.reproduce", *args, src=SRC, when="-- unit drc-seed1", env=env
    )
    assert first.returncode == 143, first.stderr[-2000:]
    last = first.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{PROG}: interrupted by SIGTERM") and "rerun the same command" in last
    assert "Traceback" not in first.stderr
    state = json.loads((session_dir(tmp_path, *args) / "session.json").read_text())
    assert state["status"] == "interrupted" and state["units"]["drc-seed0"] == "finished"
    assert not (tmp_path / "o" / "metrics.json").exists()
    code, out, err = reproduce(tmp_path, capsys, *args)
    assert code == 0, err
    assert "-- unit drc-seed0: finished earlier, result reused" in out
    assert comparable(json.loads((tmp_path / "o" / "metrics.json").read_text())) == comparable(
        uninterrupted
    )


def test_stop_mid_unit_resumes_from_its_checkpoint(
    tmp_path, capsys, monkeypatch, uninterrupted
) -> None:
    """SIGTERM during iteration 2 of drc-seed1: a checkpoint of iteration 2; the rerun continues
    there (not from 0) and ends with the uninterrupted run's metrics, bit for bit."""
    import drc.train as train_mod

    real, calls, stop = train_mod.em_iteration, [], [True]

    def em_iteration(cfg, nets, chains, x, idx, step, ckpt):
        calls.append(step)
        if len(calls) == 3 + 2 and stop:  # drc-seed0 ran 3 iterations: drc-seed1's 2nd
            stop.clear()  # only in the first invocation
            os.kill(os.getpid(), signal.SIGTERM)
        return real(cfg, nets, chains, x, idx, step, ckpt)

    monkeypatch.setattr(train_mod, "em_iteration", em_iteration)
    args = [*SMALL, "--out", str(tmp_path / "o")]
    code, _, err = reproduce(tmp_path, capsys, *args)
    assert code == 143
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(f"{PROG}: interrupted by SIGTERM at drc seed 1 step 2; rerun the same command")
    )
    unit = session_dir(tmp_path, *args) / "units" / "drc-seed1"
    assert Checkpointer(unit / "checkpoints").latest()["step"] == 2
    calls.clear()
    code, _, err = reproduce(tmp_path, capsys, *args)
    assert code == 0, err
    assert calls[:2] == [2, 0]  # drc-seed1 resumed at its last iteration, then no_reassign-seed0
    assert comparable(json.loads((tmp_path / "o" / "metrics.json").read_text())) == comparable(
        uninterrupted
    )


def test_fresh_starts_over(tmp_path, capsys) -> None:
    args = ["--profile", "smoke", "--seeds", "0", "--ablation", "false", "--baselines", "false"]
    args += ["--out", str(tmp_path / "o")]
    assert reproduce(tmp_path, capsys, *args)[0] == 0
    code, out, _ = reproduce(tmp_path, capsys, *args)
    assert code == 0 and "-- unit drc-seed0: finished earlier, result reused" in out
    code, out, _ = reproduce(tmp_path, capsys, *args, "--fresh")
    assert code == 0 and "reused" not in out and "-- unit drc-seed0" in out


# -- bad input ----------------------------------------------------------------------------------
def images(tmp_path: Path, n_img: int, n_mask: int, size: int) -> list[str]:
    """An image folder and a mask folder of black PNGs; the arguments that point at them."""
    (tmp_path / "img").mkdir(exist_ok=True)
    (tmp_path / "mask").mkdir(exist_ok=True)
    for i in range(n_img):
        Image.fromarray(np.zeros((size, size, 3), np.uint8)).save(tmp_path / "img" / f"{i}.png")
    for i in range(n_mask):
        Image.fromarray(np.zeros((size, size), np.uint8)).save(tmp_path / "mask" / f"{i}.png")
    return folder_args(tmp_path)


def folder_args(tmp_path: Path) -> list[str]:
    img, mask = str(tmp_path / "img"), str(tmp_path / "mask")
    return ["--data.source", "folder", "--data.image_dir", img, "--data.mask_dir", mask]


def corrupt_image(tmp_path: Path) -> list[str]:
    args = images(tmp_path, 4, 4, 16)
    (tmp_path / "img" / "0.png").write_bytes(b"not a png")
    return args


def unit_folder(tmp_path: Path, name: str = "drc-seed0") -> Path:
    folder = session_dir(tmp_path, "--profile", "smoke") / "units" / name
    folder.mkdir(parents=True)
    return folder


def corrupt_checkpoint(tmp_path: Path) -> list[str]:
    folder = unit_folder(tmp_path) / "checkpoints"
    folder.mkdir()
    (folder / "ckpt_000000002.pt").write_bytes(b"garbage")
    return []


def foreign_checkpoint(tmp_path: Path) -> list[str]:
    other = smoke()
    other.train.iters = 9  # a checkpoint of a longer run in this unit's folder
    ckpt = Checkpointer(unit_folder(tmp_path) / "checkpoints", config=to_dict(other))
    ckpt.save(2, {"model": {"w": torch.zeros(1)}})
    return []


def corrupt_session(tmp_path: Path) -> list[str]:
    folder = session_dir(tmp_path, "--profile", "smoke")
    folder.mkdir(parents=True)
    (folder / "session.json").write_text("{")
    return []


def corrupt_unit_result(tmp_path: Path) -> list[str]:
    folder = session_dir(tmp_path, "--profile", "smoke")
    unit_folder(tmp_path)
    (folder / "units" / "drc-seed0" / "result.json").write_text("{")
    _, cfg = parse({k: f() for k, f in PROFILES.items()}, ["--profile", "smoke"])
    state = {"config_hash": config_hash(cfg), "units": {"drc-seed0": "finished"}}
    (folder / "session.json").write_text(json.dumps(state))
    return []


NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
BAD = [
    # (arguments or a setup that returns them, exit code, message)
    (["--bogus", "1"], 2, "unknown option --bogus"),
    (["--train.iters", "abc"], 2, "--train.iters"),
    (["--train.iters", "0"], 2, "--train.iters: must be >= 1"),
    (["--train.lr", "inf"], 2, "--train.lr: must be a finite number"),
    (["--langevin.sigma", "nan"], 2, "--langevin.sigma: must be a finite number"),
    (["--seeds", ""], 2, "--seeds: must not be empty"),
    (["--model.channels", ""], 2, "--model.channels: must not be empty"),
    (["--profile", "huge"], 2, "huge"),
    (["--data.source", "coco"], 2, "--data.source"),
    (["--data.tier", "clouds"], 2, "--data.tier: invalid choice 'clouds'"),
    pytest.param(["--device", "cuda"], 2, "--device cuda: no CUDA device", marks=NO_CUDA),
    (["--data.image_size", "32"], 2, "image_size 32 does not match model.channels (8, 8, 4)"),
    (["--model.enc_channels", "4,4,4,4,4"], 2, "image_size 16 too small for 5 DownBlocks"),
    (["--data.source", "folder"], 2, "data.source=folder needs --data.image_dir"),
    (["--data.source", "cub_split"], 2, "data.source=cub_split needs --data.image_dir"),
    (lambda t: ["--data.source", "cub_all", "--data.image_dir", str(t)], 2, "not a CUB folder"),
    (folder_args, 2, "img: image folder not found"),
    (lambda t: images(t, 4, 3, 16), 2, "3 mask files but 4 images"),
    (lambda t: images(t, 4, 4, 20), 2, "expected 16x16"),
    (lambda t: images(t, 1, 1, 16), 2, "need at least 2 images"),
    (corrupt_image, 2, "0.png"),
    (corrupt_checkpoint, 2, "no readable checkpoint"),
    (foreign_checkpoint, 2, "by another config (differs in train.iters 9 vs 3)"),
    (corrupt_session, 2, "session.json is corrupt; rerun with --fresh"),
    (corrupt_unit_result, 2, "drc-seed0 is unreadable"),
    (["--train.lr", "1e10"], 1, "diverged: generator loss is nan at iteration 2"),
]


@pytest.mark.parametrize(("given", "code", "message"), BAD)
def test_bad_input_is_one_line(tmp_path, capsys, given, code, message) -> None:
    """Each row: exit code and one line naming the problem, no traceback, no report."""
    args = given(tmp_path) if callable(given) else given
    report = tmp_path / "o"
    got, _, err = reproduce(tmp_path, capsys, "--profile", "smoke", *args, "--out", str(report))
    lines = err.strip().splitlines()
    assert got == code and message in lines[-1], err
    assert "Traceback" not in err and not (report / "metrics.json").exists()
    if code == 2:  # refused before the first training step (no progress bar on stderr)
        assert len(lines) == 1, err


def test_divergence_keeps_the_last_good_checkpoint(tmp_path, capsys) -> None:
    args = ["--profile", "smoke", "--train.lr", "1e10", "--train.ckpt_every", "1"]
    code, _, err = reproduce(tmp_path, capsys, *args, "--out", str(tmp_path / "o"))
    assert code == 1 and "ckpt_000000001.pt (iteration 1) is kept" in err.splitlines()[-1]
    folder = session_dir(tmp_path, *args)
    assert json.loads((folder / "session.json").read_text())["status"] == "diverged"
    ckpt = Checkpointer(folder / "units" / "drc-seed0" / "checkpoints")
    assert ckpt.latest()["step"] == 1  # really kept


def test_overridden_cpu_run_leaves_the_committed_results_alone(tmp_path, capsys) -> None:
    """A tiny one-seed cpu run with overrides writes its report into its run folder only."""
    committed = [PROJECT / "RESULTS.md", *sorted((PROJECT / "results" / "cpu").glob("*.*"))]
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in committed}
    args = ["--profile", "cpu", "--seeds", "0", "--train.iters", "2", "--data.n_train", "8"]
    args += ["--data.n_test", "4", "--langevin.infer_test", "2", "--langevin.K0", "1"]
    args += ["--langevin.K1", "1", "--ablation", "false"]
    code, out, err = reproduce(tmp_path, capsys, *args)
    assert code == 0, err
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in committed} == before
    report = session_dir(tmp_path, *args) / "report"
    assert "overrides given" in out and f"wrote {report / 'RESULTS.md'}" in out
    assert json.loads((report / "metrics.json").read_text())["seeds"] == [0]


def test_smoke_clevr_source(tmp_path, capsys) -> None:
    args = ["--profile", "smoke", "--data.source", "clevr", "--data.max_objects", "4"]
    args += ["--ablation", "false", "--baselines", "false", "--out", str(tmp_path)]
    assert reproduce(tmp_path, capsys, *args)[0] == 0
    doc = json.loads((tmp_path / "metrics.json").read_text())
    assert doc["info"]["config"]["data"]["source"] == "clevr"
    assert all(0 <= v <= 1 for v in doc["metrics"]["iou/drc"]["values"])
    # Nothing to compare with: the claims that need the baselines or the ablation are untestable.
    verdicts = {c["id"]: c for c in doc["claims"]}
    assert all(verdicts[i]["verdict"] == "untestable" for i in ("C1", "C2", "C3", "C4", "C5"))
    assert doc["metrics"]["iou/best_baseline"]["missing"]
    assert (tmp_path / "RESULTS.md").exists()


def test_every_config_field_is_read() -> None:
    """A field that no code reads is a bug: each must appear as `.name` outside configs.py."""
    import dataclasses

    src = Path(SRC) / "drc"
    code = "".join(p.read_text() for p in src.glob("*.py") if p.name != "configs.py")
    cfg = smoke()
    for section in dataclasses.fields(cfg):
        value = getattr(cfg, section.name)
        names = (
            [f.name for f in dataclasses.fields(value)] if dataclasses.is_dataclass(value) else []
        )
        for name in [section.name, *names]:
            assert f".{name}" in code, f"config field {name!r} is never read"


def test_cli_accepts_every_data_source() -> None:
    for source in ("sprites", "clevr", "folder", "cub_all", "cub_split"):
        _, cfg = parse({k: f() for k, f in PROFILES.items()}, ["--data.source", source])
        assert cfg.data.source == source


def test_unmodified_cpu_long_reports_into_the_committed_results(tmp_path) -> None:
    """cpu-long as given writes results/cpu/ and RESULTS.md; with an override, its run folder."""

    class Folder:
        dir = tmp_path

    target = report_place(LONG, cpu_long(), Folder())
    assert target.committed and target.dir == PROJECT / "results" / "cpu"
    assert target.results_md == PROJECT / "RESULTS.md"
    other = cpu_long()
    other.train.iters = 7
    target = report_place(LONG, other, Folder())
    assert not target.committed and target.dir == tmp_path / "report"


# (z_b, z_s, test-time steps) of the official config_gallery files
OFFICIAL = {
    "paper": (256, 512, 300),  # config.yml.example (CUB)
    "paper-cub": (256, 512, 300),  # the same, on the official Birds crop and split
    "paper-textured": (4, 1024, 5000),  # textured.yml
    "paper-clevr": (2, 256, 20_000),  # clevr.yml
}


@pytest.mark.parametrize("profile", sorted(OFFICIAL))
def test_paper_profiles_are_the_official_configs(profile: str) -> None:
    _, cfg = parse({k: f() for k, f in PROFILES.items()}, ["--profile", profile])
    preflight(cfg)  # the 128x128 networks build (on the meta device)
    assert (cfg.model.zb_dim, cfg.model.zs_dim, cfg.langevin.infer_test) == OFFICIAL[profile]
    assert (cfg.data.image_size, cfg.train.batch_size, cfg.train.lr) == (128, 48, 1e-4)
    assert (cfg.langevin.K0, cfg.langevin.K1, cfg.langevin.sigma) == (60, 40, 0.25)
