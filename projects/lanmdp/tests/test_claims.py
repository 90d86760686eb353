"""The evidence: gates guard the claims, the C1 margin is derived from the oracles."""

from __future__ import annotations

import pytest
from lanmdp.claims import build_evidence, claims, derived, gates


def _passing() -> dict[str, list[float]]:
    s = {
        "valid/data": [1.0, 1.0, 1.0],
        "valid/random": [0.0, 0.0, 0.0],
        "valid/zero": [0.0, 0.0, 0.0],
        "valid/oracle_L6": [0.8, 0.75, 0.7],
        "valid/oracle_L1": [0.2, 0.15, 0.1],
        "valid/lanmdp_L6": [0.6, 0.55, 0.65],
        "valid/lanmdp_L1": [0.0, 0.05, 0.0],
        "action_err/lanmdp_L6": [0.02, 0.03, 0.025],
        "action_err/zero": [0.09, 0.09, 0.09],
        "action_err/oracle_L1": [0.1, 0.1, 0.1],
        "action_err/random": [0.26, 0.26, 0.26],
        "post_ratio/lanmdp_L6": [0.6, 0.7, 0.65],
    }
    return s


def _verdicts(per_seed: dict) -> dict[str, str]:
    doc = build_evidence("cpu", [0, 1, 2], per_seed, 6).to_dict(1.0)
    return {x["id"]: x["verdict"] for x in doc["claims"]} | {
        x["id"]: x["passed"] for x in doc["gates"]
    }


def test_one_central_claim_gated() -> None:
    central = [c for c in claims(6) if c.central]
    assert len(central) == 1 and central[0].id == "C1" and central[0].gates
    ids = {g.id for g in gates(6)}
    assert all(set(c.gates) <= ids for c in claims(6))


def test_margin_is_half_the_oracle_gap_per_seed() -> None:
    d = derived(_passing(), 6)
    assert d["nonmarkov_gap/half_oracle"] == pytest.approx([0.3, 0.3, 0.3])
    assert d["nonmarkov_gap/lanmdp"] == pytest.approx([0.6, 0.5, 0.65])
    assert _verdicts(_passing())["C1"] == "held"


def test_a_small_gap_is_not_held() -> None:
    s = _passing() | {"valid/lanmdp_L6": [0.1, 0.12, 0.08]}
    assert _verdicts(s)["C1"] == "not held"


@pytest.mark.parametrize(
    ("metric", "values", "gate"),
    [
        ("valid/random", [0.5, 0.55, 0.52], "G_random"),  # the official c3-only test
        ("valid/oracle_L1", [0.8, 0.75, 0.7], "G_history"),  # data without history
        ("post_ratio/lanmdp_L6", [1.0, 0.99, 1.0], "G_posterior"),  # posterior = prior
        ("action_err/lanmdp_L6", [0.2, 0.2, 0.2], "G_fit"),  # never fit
    ],
)
def test_a_failed_gate_makes_the_central_claim_untestable(metric, values, gate) -> None:
    v = _verdicts(_passing() | {metric: values})
    assert v[gate] is False and v["C1"] == "untestable"


def test_unmeasured_planning_metrics_are_marked_missing() -> None:
    doc = build_evidence("cpu", [0, 1, 2], _passing(), 6).to_dict(1.0)
    c4 = next(c for c in doc["claims"] if c["id"] == "C4")
    assert c4["verdict"] == "untestable"
    assert doc["metrics"]["goal_err/plan"]["missing"]
