"""The evidence: gates gate the claims, and every claim can fail (fake per-seed numbers)."""

from __future__ import annotations

from emd.claims import C1_TOL, evidence, needed

from reprokit.claims import HELD, NOT_HELD, UNTESTABLE

SEEDS = [0, 1, 2]


def _numbers(**changes: list[float]) -> dict[str, list[float]]:
    """A run in which the gates pass, EMD beats every comparison, and C1/C2 hold."""
    base = {
        "mmd/teacher": [0.010, 0.011, 0.009],
        "mmd/gaussian_fit": [0.30, 0.31, 0.29],
        "mmd/generator_init": [2.6, 2.7, 2.65],
        "mmd_tail/emd": [0.005, 0.006, 0.004],
        "mmd_tail/di": [0.09, 0.08, 0.10],
        "mmd_tail/emd16": [0.004, 0.005, 0.003],
        "mmd_tail/emd_nocancel": [0.12, 0.11, 0.13],
        "mmd_tail/emd_xz": [0.18, 0.20, 0.19],
        "grad_norm_ratio/nocancel_over_cancel": [20.0, 21.0, 19.0],
        "c1/rel_grad_diff": [1e-15, 2e-15, 7e-16],
    }
    return base | changes


def _verdicts(per_seed: dict[str, list[float]]) -> dict[str, str]:
    ev = evidence("cpu", SEEDS, 8, per_seed)
    return {r["id"]: r["verdict"] for r in [*ev.gates, *ev.claims]}


def test_every_claim_holds_on_a_run_that_supports_it():
    v = _verdicts(_numbers())
    assert all(x == HELD for x in v.values()), v


def test_failed_teacher_gate_makes_dependent_claims_untestable():
    """A teacher no better than a single Gaussian: every gated claim is untestable, C1 is not."""
    v = _verdicts(_numbers(**{"mmd/teacher": [0.40, 0.42, 0.41]}))
    assert v["G_teacher"] == NOT_HELD
    for c in ("C2", "C2q", "C3", "C3b", "C4", "C5"):
        assert v[c] == UNTESTABLE, (c, v)
    assert v["C1"] == HELD


def test_failed_metric_gate_makes_quality_claims_untestable():
    v = _verdicts(_numbers(**{"mmd/generator_init": [0.005, 0.004, 0.006]}))
    assert v["G_metric"] == NOT_HELD
    assert v["C3"] == v["C5"] == v["C4"] == UNTESTABLE and v["C2"] == HELD


def test_claims_can_fail():
    """A generator worse than DI and the teacher, a small ratio, a broken equivalence."""
    v = _verdicts(
        _numbers(
            **{
                "mmd_tail/emd": [0.15, 0.16, 0.14],
                "grad_norm_ratio/nocancel_over_cancel": [4.0, 4.5, 4.2],
                "c1/rel_grad_diff": [10 * C1_TOL, 12 * C1_TOL, 11 * C1_TOL],
            }
        )
    )
    for c in ("C1", "C2", "C3", "C5"):
        assert v[c] == NOT_HELD, (c, v)


def test_metric_not_measured_is_untestable_not_dropped():
    numbers = _numbers()
    del numbers["mmd_tail/emd16"]
    ev = evidence("cpu", SEEDS, 8, numbers)
    c3b = next(c for c in ev.claims if c["id"] == "C3b")
    assert c3b["verdict"] == UNTESTABLE and "missing" in c3b["reason"]
    assert set(needed(8)) <= set(ev.metrics)
