"""reprokit.claims: the one verdict rule, gates, and the reprokit.metrics/1 schema."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from scipy import stats

from reprokit.claims import (
    HELD,
    INCONCLUSIVE,
    NOT_HELD,
    UNTESTABLE,
    Claim,
    Constant,
    Evidence,
    EvidenceError,
    Gate,
    interval,
    validate,
    verdict,
)


def test_interval_is_the_90_percent_student_t_interval():
    d = [0.3, 0.1, 0.2, 0.4]
    lo, hi = interval(d)
    half = stats.t.ppf(0.95, 3) * np.std(d, ddof=1) / 2.0
    assert math.isclose(lo, 0.25 - half) and math.isclose(hi, 0.25 + half)
    assert interval([1.0]) is None


@pytest.mark.parametrize(
    ("d", "margin", "expected"),
    [
        ([0.30, 0.31, 0.29], 0.0, HELD),
        ([-0.30, -0.31, -0.29], 0.0, NOT_HELD),
        ([0.30, 0.31, 0.29], 0.5, NOT_HELD),  # positive but below the pre-registered margin
        ([0.002, -0.04, 0.05], 0.0, INCONCLUSIVE),  # "0.002 better at n = 3" is not held
        ([1.0, 2.0], 0.0, INCONCLUSIVE),  # n < 3: more seeds would decide
        ([0.1, 0.1, 0.1], 0.0, HELD),  # no spread: the interval is the mean
    ],
)
def test_verdict_rule(d, margin, expected):
    assert verdict(d, margin) == expected


def _evidence(drc=(0.40, 0.42, 0.45), recon=(0.10, 0.11, 0.09)) -> Evidence:
    ev = Evidence("drc", "cpu", seeds=[0, 1, 2])
    ev.add("iou/drc", list(drc))
    ev.add("iou/kmeans", 0.305)  # deterministic, computed once
    ev.add("iou/ablation", [0.30, 0.43, 0.35])
    ev.add("l1/model", list(recon))
    ev.add("l1/mean_colour", [0.20, 0.21, 0.19])
    return ev


GATES = [
    Gate(
        "G1",
        "reconstructs better than the mean colour",
        "l1/model",
        "l1/mean_colour",
        direction="lower",
    )
]
CLAIMS = [
    Claim("C1", "DRC beats k-means", "iou/drc", "iou/kmeans", central=True, gates=("G1",)),
    Claim("C2", "reassignment helps", "iou/drc", "iou/ablation", gates=("G1",)),
    Claim("C3", "above chance", "iou/drc", Constant(0.5, "chance")),
]


def test_judge_pairs_signs_and_constants():
    ev = _evidence()
    ev.judge(GATES, CLAIMS)
    g, (c1, c2, c3) = ev.gates[0], ev.claims
    assert g["passed"] and g["differences"] == pytest.approx([0.10, 0.10, 0.10])  # lower is better
    assert c1["versus"] == {"metric": "iou/kmeans", "constant": 0.305, "label": "measured once"}
    assert c1["differences"] == pytest.approx([0.095, 0.115, 0.145]) and c1["verdict"] == HELD
    assert c2["verdict"] == INCONCLUSIVE
    assert c3["verdict"] == NOT_HELD and c3["versus"] == {"constant": 0.5, "label": "chance"}
    assert ev.central["id"] == "C1"
    assert validate(ev.to_dict(1.0)) == []


def test_failed_gate_makes_claims_untestable_and_says_why():
    ev = _evidence(recon=(0.25, 0.30, 0.22))  # worse than painting the mean colour
    ev.judge(GATES, CLAIMS)
    assert not ev.gates[0]["passed"] and ev.gates[0]["verdict"] == NOT_HELD
    c1, c2, c3 = ev.claims
    assert c1["verdict"] == UNTESTABLE and c2["verdict"] == UNTESTABLE
    assert "gate G1 not passed: not held, interval [" in c1["reason"]
    assert c1["differences"] is not None  # the numbers are still reported
    assert c3["verdict"] == NOT_HELD  # no gate: judged
    assert validate(ev.to_dict(1.0)) == []


def test_missing_values_are_null_with_a_reason(tmp_path):
    ev = _evidence()
    with pytest.raises(EvidenceError, match="say why"):
        ev.add("fid/drc", [1.0, float("nan"), 2.0])
    ev.add("fid/drc", [1.0, float("nan"), 2.0], missing="seed 1 diverged")
    ev.add("fid/base", [2.0, 2.0, 3.0])
    claims = [*CLAIMS, Claim("C4", "lower FID", "fid/drc", "fid/base", direction="lower")]
    ev.judge(GATES, claims)
    c4 = ev.claims[-1]
    assert c4["verdict"] == UNTESTABLE and "seed 1 diverged" in c4["reason"]
    assert "fid/base" not in c4["reason"]  # only the side with missing values is named
    assert ev.metrics["fid/drc"]["values"] == [1.0, None, 2.0]
    path = ev.write(tmp_path / "metrics.json", wall_time_s=float("nan"))
    text = path.read_text()
    assert "NaN" not in text
    assert validate(json.loads(text)) == []


def test_mark_unmeasured_makes_only_the_statements_that_need_it_untestable():
    ev = _evidence()
    claims = [*CLAIMS, Claim("C4", "lower FID", "fid/drc", "fid/base", direction="lower")]
    assert ev.mark_unmeasured(GATES, claims, why="method not run") == ["fid/drc", "fid/base"]
    assert ev.mark_unmeasured(GATES, claims) == []  # already recorded: nothing marked twice
    ev.judge(GATES, claims)
    c4 = ev.claims[-1]
    assert c4["verdict"] == UNTESTABLE and "method not run" in c4["reason"]
    assert all(c["verdict"] != UNTESTABLE for c in ev.claims[:-1])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Claim("C", "t", "m", "v", margin=-1.0), "margin"),
        (lambda: Claim("C", "t", "m", "v", direction="up"), "direction"),
        (lambda: Claim("C", "t", "m", "v", gates="G1"), "tuple"),
        (lambda: Gate("G", "", "m", "v"), "non-empty"),
        (lambda: Claim("C", "t", "m", Constant(float("inf"), "x")), "not finite"),
        (lambda: Evidence("p", "cpu", seeds=[]), "at least one seed"),
    ],
)
def test_bad_declarations_are_one_line_errors(build, message):
    with pytest.raises(EvidenceError, match=message):
        build()


def test_judge_refuses_inconsistent_declarations():
    ev = _evidence()
    with pytest.raises(EvidenceError, match="exactly one claim must be central"):
        ev.judge(GATES, [c for c in CLAIMS if not c.central])
    with pytest.raises(EvidenceError, match="undeclared gates"):
        ev.judge([], CLAIMS)
    with pytest.raises(EvidenceError, match="no metric 'iou/nope'"):
        ev.judge(GATES, [Claim("C1", "x", "iou/nope", "iou/drc", central=True, gates=("G1",))])
    with pytest.raises(EvidenceError, match="3 values for 2 seeds"):
        ev.add("short", [1.0, 2.0, 3.0], seeds=[0, 1])
    ev.add("two_seeds", [1.0, 2.0], seeds=[0, 1])
    with pytest.raises(EvidenceError, match="different seeds"):
        ev.judge(GATES, [*CLAIMS, Claim("C9", "x", "iou/drc", "two_seeds")])
    with pytest.raises(EvidenceError, match="judge"):
        Evidence("p", "cpu", [0]).write("unused.json", 1.0)


def _doc() -> dict:
    ev = _evidence()
    ev.judge(GATES, CLAIMS)
    return ev.to_dict(12.5, info={"data": "sprites"})


def _set(path, value):
    def apply(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return apply


BROKEN = {
    "wrong schema": (_set(["schema"], "mine/1"), "schema"),
    "verdict typed by hand": (_set(["claims", 1, "verdict"], "held"), "the rule gives"),
    "gate verdict typed by hand": (_set(["gates", 0, "verdict"], "not held"), "the rule gives"),
    "interval not from differences": (_set(["claims", 0, "interval"], [0.0, 1.0]), "interval"),
    "no central claim": (_set(["claims", 0, "central"], False), "central"),
    "central claim without a gate": (_set(["claims", 0, "gates"], []), "no gate"),
    "machine path": (_set(["info", "cache"], "/home/me/.cache/x.npz"), "machine-specific"),
    "bare NaN": (_set(["wall_time_s"], float("nan")), "NaN"),
    "mean not from values": (_set(["metrics", "iou/drc", "mean"], 0.9), "do not follow"),
    "old layout": (_set(["metrics", "iou/drc"], {"mean": 0.4}), "neither"),
    "missing key": (lambda d: d.pop("claims"), "claims"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_validate_catches(name):
    mutate, expected = BROKEN[name]
    doc = copy.deepcopy(_doc())
    assert validate(doc) == []
    mutate(doc)
    problems = validate(doc)
    assert any(expected in p for p in problems), problems


def test_gate_failure_propagates_in_validation():
    doc = _doc()
    doc["gates"][0]["passed"] = False
    doc["gates"][0]["verdict"] = NOT_HELD  # consistent gate, but its differences say held
    assert any("the rule gives" in p for p in validate(doc))


def test_relative_paths_and_urls_are_not_machine_paths():
    doc = _doc()
    doc["info"] = {"a": "runs/drc/cpu", "b": "https://arxiv.org/abs/2306.00001", "c": "1/3 seeds"}
    assert validate(doc) == []


def test_a_missing_constant_makes_the_claim_untestable_and_the_table_renders():
    from reprokit.report import claims_table

    ev = _evidence()
    ev.add("iou/grabcut", None, missing="GrabCut not run (--baselines false)")
    claims = [*CLAIMS, Claim("C5", "beats GrabCut", "iou/drc", "iou/grabcut")]
    ev.judge(GATES, claims)
    c5 = ev.claims[-1]
    assert c5["verdict"] == UNTESTABLE and "GrabCut not run" in c5["reason"]
    assert "`iou/grabcut` — (measured once: a constant)" in claims_table(ev.to_dict(1.0))


def test_one_seed_runs_write_but_are_not_committable(tmp_path):
    ev = Evidence("drc", "paper", seeds=[0])
    ev.add("iou/drc", [0.4])
    ev.add("l1/model", [0.1])
    ev.add("l1/mean_colour", [0.2])
    ev.add("iou/kmeans", 0.3)
    ev.judge(GATES, CLAIMS[:1])
    doc = json.loads(ev.write(tmp_path / "m.json", 1.0).read_text())
    assert ev.gates[0]["verdict"] == INCONCLUSIVE and ev.central["verdict"] == UNTESTABLE
    assert validate(doc, committed=False) == []
    assert any("seeds" in p for p in validate(doc))
