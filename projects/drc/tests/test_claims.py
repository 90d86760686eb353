"""The evidence: gates and claims judged by the shared rule from (fake) per-seed numbers."""

from __future__ import annotations

import pytest
from drc.claims import CLAIMS, FIT_MARGIN, GATES, build_evidence, needed_metrics

from reprokit.claims import validate

SEEDS = [0, 1, 2]


def _numbers(recon_drc: list[float]) -> tuple[dict, dict]:
    """A run where DRC segments well and fits (unless recon_drc says otherwise)."""
    per_seed = {
        "iou/drc": [0.60, 0.62, 0.58],
        "iou/no_reassign": [0.40, 0.41, 0.43],
        "iou_train/drc": [0.65, 0.66, 0.61],
        "recon_l1/drc": recon_drc,
        "recon_l1/no_reassign": [0.10, 0.11, 0.12],
        "l1_object/fg_expert/drc": [0.10, 0.12, 0.11],
        "l1_object/bg_expert/drc": [0.40, 0.42, 0.39],
    }
    once = {
        "recon_l1/mean_colour": 0.30,
        "iou/allfg": 0.19,
        "iou/kmeans": 0.31,
        "iou/grabcut": 0.22,
        "iou_train/allfg": 0.2,
        "iou_train/kmeans": 0.3,
        "iou_train/grabcut": 0.5,
    }
    return per_seed, once


def _by_id(ev) -> dict:
    return {r["id"]: r for r in [*ev.gates, *ev.claims]}


def test_every_claim_is_held_when_the_gates_pass() -> None:
    ev = build_evidence("cpu", SEEDS, *_numbers([0.10, 0.12, 0.11]))
    r = _by_id(ev)
    assert all(r[g.id]["passed"] for g in GATES)
    assert all(r[c.id]["verdict"] == "held" for c in CLAIMS)
    assert ev.metrics["iou/best_baseline"] == {"value": 0.31}  # the strongest baseline
    assert ev.metrics["iou_train/best_baseline"] == {"value": 0.5}  # on the training images
    assert validate(ev.to_dict(1.0)) == []


def test_a_failed_gate_makes_its_claims_untestable() -> None:
    """The composite no better than the mean colour (the committed failure) -> G1 fails."""
    ev = build_evidence("cpu", SEEDS, *_numbers([0.36, 0.31, 0.33]))
    r = _by_id(ev)
    assert not r["G1"]["passed"] and r["G2"]["passed"] and r["G3"]["passed"]
    for c in CLAIMS:
        assert r[c.id]["verdict"] == "untestable", c.id
        assert "G1" in r[c.id]["reason"]
    assert validate(ev.to_dict(1.0)) == []


@pytest.mark.parametrize(
    ("recon", "passed"),
    [([0.27, 0.28, 0.26], False), ([0.20, 0.21, 0.19], True)],
    ids=["gain-below-margin", "gain-above-margin"],
)
def test_reconstruction_gate_needs_its_margin(recon: list[float], passed: bool) -> None:
    """Beating the mean colour (0.30) by less than FIT_MARGIN does not show a fitted model."""
    assert FIT_MARGIN == 0.05
    ev = build_evidence("cpu", SEEDS, *_numbers(recon))
    r = _by_id(ev)
    assert r["G1"]["passed"] is passed
    assert (r["C1"]["verdict"] == "held") is passed


def test_background_expert_explaining_the_objects_fails_g2() -> None:
    """The committed failure of issue 14: the warped background paints the objects."""
    per_seed, once = _numbers([0.10, 0.12, 0.11])
    per_seed["l1_object/fg_expert/drc"] = [0.50, 0.52, 0.49]
    per_seed["l1_object/bg_expert/drc"] = [0.44, 0.45, 0.44]
    r = _by_id(build_evidence("cpu", SEEDS, per_seed, once))
    assert r["G1"]["passed"] and not r["G2"]["passed"]
    assert r["C1"]["verdict"] == "untestable" and "G2" in r["C1"]["reason"]
    assert r["C2"]["verdict"] == "held"  # C2 does not depend on G2


def test_unmeasured_comparisons_are_untestable_not_crashes() -> None:
    per_seed, _ = _numbers([0.10, 0.12, 0.11])
    del per_seed["iou/no_reassign"], per_seed["recon_l1/no_reassign"]
    ev = build_evidence("smoke", SEEDS, per_seed, {"recon_l1/mean_colour": 0.30})
    r = _by_id(ev)
    assert r["G1"]["passed"] and not r["G3"]["passed"]
    assert all(r[c.id]["verdict"] == "untestable" for c in CLAIMS)
    assert set(needed_metrics()) <= set(ev.metrics)
    assert validate(ev.to_dict(1.0)) == []


def test_exactly_one_central_claim_with_gates() -> None:
    central = [c for c in CLAIMS if c.central]
    assert len(central) == 1 and set(central[0].gates) == {"G1", "G2"}
