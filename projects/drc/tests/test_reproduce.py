"""The entry point: the smoke profile end to end and bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from drc.configs import smoke
from drc.reproduce import cli, main
from PIL import Image

from reprokit.testing import run_python

SRC = str(Path(__file__).resolve().parents[1] / "src")
KEYS = [
    "sprites_drc_iou",
    "sprites_drc_dice",
    "sprites_kmeans_iou",
    "sprites_grabcut_iou",
    "sprites_allfg_iou",
    "sprites_no_reassign_iou",
    "wall_time_s",
]


def test_smoke_end_to_end(tmp_path) -> None:
    cfg = smoke()
    cfg.out = str(tmp_path)
    metrics = main(cfg, "smoke")
    saved = json.loads((tmp_path / "metrics.json").read_text())
    for k in KEYS:
        assert k in saved and np.isfinite(saved[k]), k
        assert saved[k] == metrics[k]
    assert 0 <= saved["sprites_drc_iou"] <= 1
    assert len(saved["sprites_drc_iou_values"]) == len(cfg.seeds)
    assert (tmp_path / "masks.png").exists()


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
    cfg.seeds, cfg.ablation, cfg.baselines = (0,), False, False
    metrics = main(cfg, "smoke")
    assert 0 <= metrics["clevr_drc_iou"] <= 1 and "sprites_drc_iou" not in metrics
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
