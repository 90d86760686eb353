"""Real RAVEN / I-RAVEN .npz files by path: the paper profile's Tier B data path, bad paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from alans import reproduce
from alans.configs import PROFILES
from alans.experiments import tier_b_data
from alans.raven import load_raven, problem_files, slot_crops

from reprokit.claims import validate
from reprokit.config import parse
from reprokit.errors import UserError
from reprokit.testing import run_entry

# One problem per rule annotation: (exist_ind, number_ind, exist_rule, number_rule, t, s, c)
RULES = [(1, 1, 0, 0, 3, 1, 2), (0, 1, 0, 2, 0, 4, 0), (1, 0, 3, 0, 4, 0, 1)]
RULE_KEYS = ("exist_rule_indicator", "number_rule_indicator", "exist_rule", "number_rule")
RULE_KEYS += ("type_rule", "size_rule", "color_rule")


def write_fake_raven(root: Path, folder: str, per_part: int = 3) -> None:
    """RAVEN-layout files: ``image`` (16, 160, 160), ``target``, meta arrays, rule files."""
    rng = np.random.default_rng(0)
    d = root / folder
    d.mkdir(parents=True)
    for part in ("train", "val", "test"):
        for i in range(per_part):
            f = d / f"RAVEN_{10 * i + len(part)}_{part}.npz"
            image = rng.integers(0, 256, (16, 160, 160), dtype=np.uint8)
            image[:, :53, :53] = 7 * i  # a recognisable top-left cell
            np.savez(
                f,
                image=image,
                target=np.int64(i % 8),
                meta_target=np.zeros(9),
                structure=np.array(["Singleton"]),
                meta_matrix=np.zeros((8, 9)),
            )
            rule = RULES[i % len(RULES)]
            np.savez(f.with_name(f.stem + "_comp0_rule.npz"), **dict(zip(RULE_KEYS, rule)))


def test_paper_profile_reads_real_raven_files_for_tier_b(tmp_path):
    write_fake_raven(tmp_path, "distribute_nine")
    args = ["--profile", "paper", "--data.raven_dir", str(tmp_path), "--data.config", "grid3x3"]
    _, cfg = parse(PROFILES, [*args, "--tier_b.n_train", "8", "--tier_b.n_test", "8"])
    data, crops = tier_b_data(cfg, seed=1234)
    assert {k: v.shape for k, v in crops.items()} == {k: (3, 16, 9, 32, 32) for k in data}
    assert crops["train"].dtype == np.uint8 and (crops["train"][1, :, 0] == 7).all()
    assert data["train"]["target"].tolist() == [0, 1, 2]
    # labels: Position rule -> exist label, Number rule -> number label; then type/size/color
    assert data["train"]["labels"].tolist() == [[0, 3, 1, 2], [2, 0, 4, 0], [3, 4, 0, 1]]
    assert data["train"]["numpos_on_position"].tolist() == [1, 0, 1]
    assert "panels" not in data["train"]  # no attribute labels in real files
    center = slot_crops(np.full((16, 160, 160), 9, np.uint8), "center")
    assert center.shape == (16, 1, 32, 32) and (center == 9).all()


def test_files_are_taken_in_index_order_and_iid_reads_val(tmp_path):
    write_fake_raven(tmp_path, "center_single", per_part=2)
    d = load_raven(tmp_path, "center", "iid", 5)
    assert d["target"].tolist() == [0, 1] and d["crops"].shape == (2, 16, 1, 32, 32)


def _no_folder(root: Path) -> None:
    root.mkdir()


def _no_rules(root: Path) -> None:
    write_fake_raven(root, "center_single")
    (root / "center_single" / "RAVEN_24_test_comp0_rule.npz").unlink()


def _not_npz(root: Path) -> None:
    write_fake_raven(root, "center_single")
    problem_files(root, "center", "train")[0].write_text("not a zip")


def _no_target(root: Path) -> None:
    write_fake_raven(root, "center_single")
    for f in root.glob("*/RAVEN_*_test.npz"):
        np.savez(f, image=np.zeros((16, 160, 160), np.uint8))


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (None, "raven: no such folder"),
        (_no_folder, "no folder center_single/"),
        (_no_rules, "RAVEN_24_test.npz has no rule annotation"),
        (_not_npz, "cannot be read as .npz"),
        (_no_target, "not a RAVEN file (no 'target')"),
    ],
)
def test_bad_raven_dir_is_one_line(tmp_path, capsys, setup, message):
    root = tmp_path / "raven"
    if setup is not None:
        setup(root)
    args = ["--profile", "paper", "--data.raven_dir", str(root), "--out", str(tmp_path / "r")]
    args += [
        "--tier_a.enabled",
        "false",
        "--grid.enabled",
        "false",
        "--tier_b.n_train",
        "8",
        "--tier_b.n_test",
        "8",
    ]
    args += ["--tier_b.steps", "1", "--tier_b.baseline_steps", "1", "--tier_b.warmup_problems", "2"]
    code = run_entry(reproduce.PROG, reproduce.run, args, tmp_path / "runs")
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert lines[0].startswith("alans.reproduce: error:")
    assert not (tmp_path / "runs").exists()  # refused before any training


def test_loader_errors_are_user_errors(tmp_path):
    with pytest.raises(UserError, match=r"no \*_train.npz problem files"):
        (tmp_path / "center_single").mkdir()
        load_raven(tmp_path, "center", "train", 1)


def test_paper_profile_trains_tier_b_on_real_files(tmp_path, capsys):
    """Tier B on real files end to end (one step each): ALANS as the paper trains it, CNN-MLP
    and SCL; no supervised-perception variant (no attribute labels); the report validates."""
    write_fake_raven(tmp_path / "raven", "center_single")
    args = ["--profile", "paper", "--data.raven_dir", str(tmp_path / "raven")]
    args += [
        "--tier_a.enabled",
        "false",
        "--grid.enabled",
        "false",
        "--tier_b.seeds",
        "1234",
        "--out",
        str(tmp_path / "r"),
    ]
    args += ["--tier_b.n_train", "8", "--tier_b.n_test", "8", "--tier_b.warmup_problems", "2"]
    args += ["--tier_b.steps", "1", "--tier_b.baseline_steps", "1", "--tier_b.batch", "2"]
    assert run_entry(reproduce.PROG, reproduce.run, args, tmp_path / "runs") == 0
    capsys.readouterr()
    doc = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert validate(doc) == []
    m = doc["metrics"]
    assert m["tierB/systematicity/alans/test_acc"]["n"] == 1
    assert m["tierB/systematicity/scl/test_acc"]["n"] == 1
    assert m["tierB/systematicity/alans_supervised_perception/test_acc"]["missing"]
