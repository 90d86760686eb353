"""The real entry point: smoke profile end to end, paper profile for two steps, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
from alans import reporting
from alans.claims import CLAIMS, GATES, SPLITS, evidence
from alans.configs import paper, smoke
from alans.reproduce import main

from reprokit.claims import validate
from reprokit.config import ConfigError, override
from reprokit.testing import run_python

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_smoke_profile_end_to_end(tmp_path):
    cfg = override(smoke(), {"out": str(tmp_path)})
    doc = main(cfg, "smoke")
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert validate(saved) == []
    assert [c["id"] for c in saved["claims"]] == [c.id for c in CLAIMS]
    assert [g["id"] for g in saved["gates"]] == [g.id for g in GATES]
    assert saved["claims"] == doc["claims"] and saved["profile"] == "smoke"
    for name in ("tierA/systematicity/alans/test_acc", "tierB/systematicity/scl/iid_acc"):
        assert saved["metrics"][name]["n"] >= 1, name
    assert saved["metrics"]["tierA/systematicity/alans/test_acc"]["n"] == 3
    assert saved["metrics"]["tierB/systematicity/scl/iid_acc"]["seeds"] == [0]
    assert "answer generation" in reporting.notes(saved).lower()
    for f in (
        "tierA_accuracy.png",
        "answer_generation.png",
        "example_problem.png",
        "value_norms.png",
    ):
        assert (tmp_path / f).stat().st_size > 1000


def _fake_tier_a(rng: np.random.Generator, mlp_iid: float) -> dict:
    """One seed of ``experiments.tier_a`` with made-up accuracies (ALANS near ceiling)."""
    r = {f"{m}_{p}_acc": float(rng.uniform(0.97, 0.99)) for m in ("alans",) for p in PARTS}
    r |= {f"alans_ind_{p}_acc": float(rng.uniform(0.5, 0.55)) for p in PARTS}
    r |= {"mlp_val_acc": mlp_iid, "mlp_iid_acc": mlp_iid + rng.uniform(0, 0.01)}
    r |= {"mlp_test_acc": float(rng.uniform(0.25, 0.3)), "alans_init_acc": 0.86}
    r |= {"mcnemar_p_alans_vs_mlp": 1e-9, "mcnemar_p_alans_vs_alans_ind": 1e-9}
    r["answer_generation"] = {"attr_acc": 0.99, "all_acc": 0.97, "copy8_attr_acc": 0.5}
    return r


PARTS = ("val", "iid", "test")


@pytest.mark.parametrize("mlp_iid", [0.64, 0.97])
def test_a_failed_baseline_gate_makes_its_claims_untestable(mlp_iid):
    rng = np.random.default_rng(0)
    tier_a = {s: [_fake_tier_a(rng, mlp_iid) for _ in range(3)] for s in SPLITS}
    ev = evidence("cpu", [0, 1, 2], tier_a)
    gates = {g["id"]: g for g in ev.gates}
    claims = {c["id"]: c for c in ev.claims}
    assert gates["GB-sys"]["passed"] is (mlp_iid > 0.9)
    behind = [c for c in claims.values() if "GB-sys" in c["gates"]]
    assert {c["id"] for c in behind} == {"C1", "C4"}
    for c in behind:
        if mlp_iid < 0.9:
            assert c["verdict"] == "untestable" and "GB-sys" in c["reason"]
        else:
            assert c["verdict"] == "held"  # ALANS 0.97+ vs MLP <= 0.30, margin 0.20
    assert claims["C9"]["verdict"] == "untestable" and "not run" in claims["C9"]["reason"]
    assert claims["C10"]["verdict"] == "held"
    assert validate(ev.to_dict(1.0)) == []


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
    doc = main(override(cfg, small), "paper")
    assert validate(doc) == [] and doc["seeds"] == [1234, 1235, 1236]
    m = doc["metrics"]
    assert m["tierA/productivity/alans/test_acc"]["n"] == 3
    assert m["tierB/systematicity/scl/test_acc"]["n"] == 3
    assert m["tierA/systematicity/alans/test_acc"]["missing"]  # split not run: null, with why


def test_unknown_split_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown split 'bogus'"):
        main(override(smoke(), {"tier_a.splits": ("bogus",), "out": str(tmp_path)}), "smoke")


def test_fewer_than_three_seeds_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="at least 3 Tier A seeds"):
        main(override(smoke(), {"seeds": (0,), "out": str(tmp_path)}), "smoke")


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
