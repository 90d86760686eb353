"""The real entry point: smoke profile end to end, paper profile for two steps, bad input."""

import json
from pathlib import Path

import pytest
from alans import reporting
from alans.configs import paper, smoke
from alans.reproduce import main

from reprokit.config import ConfigError, override
from reprokit.testing import run_python

SRC = str(Path(__file__).resolve().parents[1] / "src")

KEYS = [
    f"tierA_{s}_{m}_acc"
    for s in ("systematicity", "productivity", "localism")
    for m in ("alans", "alans_ind", "mlp")
]


def test_smoke_profile_end_to_end(tmp_path):
    cfg = override(smoke(), {"out": str(tmp_path)})
    m = main(cfg, "smoke")
    saved = json.loads((tmp_path / "metrics.json").read_text())
    for k in [
        *KEYS,
        "tierB_systematicity_alans_acc",
        "tierB_systematicity_cnn_acc",
        "tierB_systematicity_scl_acc",
        "answer_generation_attr_acc",
        "wall_time_s",
    ]:
        assert k in saved and saved[k] >= 0, k
    assert m["tierA_systematicity_alans_acc"] == saved["tierA_systematicity_alans_acc"]
    splits = ("systematicity", "productivity", "localism")
    rows = reporting.claims(saved, splits, "systematicity")
    assert len(rows) == 6 and all(r.held in (True, False) for r in rows)
    assert "answer generation" in reporting.notes(saved, splits, "systematicity", cfg).lower()
    for f in (
        "tierA_accuracy.png",
        "answer_generation.png",
        "example_problem.png",
        "value_norms.png",
    ):
        assert (tmp_path / f).stat().st_size > 1000


def test_paper_profile_two_steps(tmp_path):
    cfg = paper()
    assert (
        cfg.tier_a.lr == 0.95e-4 and cfg.tier_a.batch == 32 and cfg.tier_a.steps == 200 * 6000 // 32
    )
    assert (cfg.data.n_train, cfg.data.n_val, cfg.data.n_test) == (6000, 2000, 2000)
    assert (
        cfg.alans.lam_color == 5e-7
        and cfg.alans.pred_scale == 1e3
        and cfg.alans.action_scale == 1e4
    )
    small = {
        "data.n_train": 16,
        "data.n_val": 8,
        "data.n_test": 8,
        "tier_a.steps": 2,
        "tier_a.mlp_steps": 2,
        "tier_a.splits": ("productivity",),
        "tier_b.n_train": 8,
        "tier_b.n_test": 8,
        "tier_b.steps": 2,
        "tier_b.warmup_steps": 2,
        "tier_b.warmup_problems": 2,
        "tier_b.baseline_steps": 2,
        "tier_b.batch": 4,
        "out": str(tmp_path),
    }
    m = main(override(cfg, small), "paper")
    assert "tierA_productivity_alans_acc" in m and "tierB_systematicity_scl_acc" in m


def test_unknown_split_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown split 'bogus'"):
        main(override(smoke(), {"tier_a.splits": ("bogus",), "out": str(tmp_path)}), "smoke")


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (["--bogus", "1"], "bogus"),
        (["--data.config", "distribute_nine"], "distribute_nine"),
        (["--tier_b.split", "nope"], "nope"),
        (
            ["--tier_a.splits", "systematicity,compositionality", "--profile", "smoke"],
            "compositionality",
        ),
        (["--tier_a.steps", "-3"], "tier_a.steps"),
    ],
)
def test_bad_input_gives_one_line_error(args, msg, tmp_path):
    r = run_python("-m", "alans.reproduce", *args, "--out", str(tmp_path), src=SRC)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0] and "Traceback" not in r.stderr


def test_non_finite_loss_stops_training_with_a_message() -> None:
    import pytest
    import torch
    from alans.train import fit

    from reprokit.errors import DivergenceError

    w = torch.nn.Parameter(torch.ones(1))
    model = torch.nn.Module()
    model.w = w

    def loss_fn(idx: torch.Tensor) -> torch.Tensor:
        return w.sum() * float("nan")

    with pytest.raises(DivergenceError, match="step 0"):
        fit(model, loss_fn, n=4, steps=3, batch=2, param_groups=[{"params": [w]}], seed=0)
    assert torch.equal(w.detach(), torch.ones(1))  # no update from the bad step
