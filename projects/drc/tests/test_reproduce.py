"""The entry point: the smoke profile end to end and bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from drc.claims import CLAIMS, GATES
from drc.configs import smoke
from drc.reproduce import cli, main
from PIL import Image

from reprokit.claims import validate
from reprokit.report import claims_table
from reprokit.testing import run_python

SRC = str(Path(__file__).resolve().parents[1] / "src")
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


def test_smoke_end_to_end(tmp_path) -> None:
    """The real entry writes a valid reprokit.metrics/1 document with the declared evidence."""
    cfg = smoke()
    cfg.out = str(tmp_path)
    doc = main(cfg, "smoke")
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert validate(saved) == []
    assert [c["id"] for c in saved["claims"]] == [c.id for c in CLAIMS]
    assert [g["id"] for g in saved["gates"]] == [g.id for g in GATES]
    assert saved["seeds"] == list(cfg.seeds) and saved["claims"] == doc["claims"]
    for k in MEASURED:
        m = saved["metrics"][k]
        vals = m["values"] if "values" in m else [m["value"]]
        assert all(v is not None and np.isfinite(v) for v in vals), k
    assert all(0 <= v <= 1 for v in saved["metrics"]["iou/drc"]["values"])
    assert claims_table(saved) in (tmp_path / "RESULTS.md").read_text()
    assert (tmp_path / "masks.png").exists()


def test_too_few_seeds_fail_before_training(capsys) -> None:
    assert cli(["--profile", "smoke", "--seeds", "0"]) == 2
    err = capsys.readouterr().err
    assert "at least 3 seeds" in err and len(err.strip().splitlines()) == 1


def _cli(*args: str) -> subprocess.CompletedProcess:
    return run_python("-m", "drc.reproduce", *args, src=SRC, timeout=60)


def test_unknown_key_is_a_one_line_error() -> None:
    p = _cli("--bogus", "1")
    assert p.returncode != 0
    assert "bogus" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_out_of_range_value(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli(["--profile", "smoke", "--train.iters", "0"])
    assert e.value.code == 2 and "train.iters" in capsys.readouterr().err


def _folders(tmp_path: Path, n_img: int, n_mask: int, size: int) -> list[str]:
    (tmp_path / "img").mkdir()
    (tmp_path / "mask").mkdir()
    for i in range(n_img):
        Image.fromarray(np.zeros((size, size, 3), np.uint8)).save(tmp_path / "img" / f"{i}.png")
    for i in range(n_mask):
        Image.fromarray(np.zeros((size, size), np.uint8)).save(tmp_path / "mask" / f"{i}.png")
    return [
        "--profile",
        "smoke",
        "--data.source",
        "folder",
        "--out",
        str(tmp_path / "o"),
        "--data.image_dir",
        str(tmp_path / "img"),
        "--data.mask_dir",
        str(tmp_path / "mask"),
    ]


def test_folders_of_different_lengths(tmp_path, capsys) -> None:
    assert cli(_folders(tmp_path, 4, 3, 16)) == 2
    err = capsys.readouterr().err
    assert "3 mask files but 4 images" in err and len(err.strip().splitlines()) == 1


def test_wrong_image_size(tmp_path, capsys) -> None:
    assert cli(_folders(tmp_path, 4, 4, 20)) == 2
    err = capsys.readouterr().err
    assert "expected 16x16" in err and len(err.strip().splitlines()) == 1


def test_smoke_clevr_source(tmp_path) -> None:
    cfg = smoke()
    cfg.out, cfg.data.source, cfg.data.max_objects = str(tmp_path), "clevr", 4
    cfg.ablation, cfg.baselines = False, False
    doc = main(cfg, "smoke")
    assert doc["info"]["config"]["data"]["source"] == "clevr"
    assert all(0 <= v <= 1 for v in doc["metrics"]["iou/drc"]["values"])
    # Nothing to compare with: the claims that need the baselines or the ablation are untestable.
    verdicts = {c["id"]: c for c in doc["claims"]}
    assert all(verdicts[i]["verdict"] == "untestable" for i in ("C1", "C2", "C3", "C4"))
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


def test_cli_accepts_every_data_source(capsys) -> None:
    from drc.configs import PROFILES

    from reprokit.config import parse

    for source in ("sprites", "clevr", "folder"):
        _, cfg = parse({k: f() for k, f in PROFILES.items()}, ["--data.source", source])
        assert cfg.data.source == source
