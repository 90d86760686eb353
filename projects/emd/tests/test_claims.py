"""The evidence: gates gate the claims, and every claim can fail (fake per-seed numbers)."""

from __future__ import annotations

import numpy as np
from emd.claims import C1_TOL, CLAIM_IDS, K_SWEEP, evidence, needed
from emd.report import k_slope

from reprokit.claims import HELD, NOT_HELD, UNTESTABLE

SEEDS = [0, 1, 2]


def _numbers(**changes: list[float]) -> dict[str, list[float]]:
    """A run in which every gate passes and every claim holds."""
    base = {
        "mmd/teacher": [0.010, 0.011, 0.009],
        "mmd/gaussian_fit": [0.30, 0.31, 0.29],
        "mmd/generator_init": [2.6, 2.7, 2.65],
        "mmd/teacher_nfe4": [0.2, 0.25, 0.22],
        "rare_recall/teacher": [0.9, 0.92, 0.88],
        "kl_weights/teacher": [0.01, 0.012, 0.011],
        "kl_weights/teacher_no_rare": [0.5, 0.52, 0.49],
        "relax_eps/emd": [0.88, 0.87, 0.88],
        "drift_to_noise_z_snr1/emd": [1.5, 1.4, 1.6],
        "estep_kl_slope_tail/emd": [-0.02, -0.03, -0.025],
        "estep_kl_K8_tail/emd": [0.05, 0.06, 0.055],
        "estep_kl_eps_tail/emd": [0.08, 0.09, 0.085],
        "gradvar_ratio_tail/emd": [180.0, 200.0, 190.0],
        "mmd_tail/emd": [0.005, 0.006, 0.004],
        "mmd_tail/di": [0.09, 0.08, 0.10],
        "rare_recall_tail/emd": [0.8, 0.7, 0.75],
        "rare_recall_tail/di": [0.2, 0.3, 0.25],
        "kl_weights_tail/emd": [0.05, 0.06, 0.04],
        "kl_weights_tail/di": [0.3, 0.35, 0.32],
        "kl_weights_tail/emd16": [0.04, 0.05, 0.03],
        "kl_weights_tail/emd_nocancel": [0.6, 0.7, 0.65],
        "kl_weights_tail/emd_xz": [0.4, 0.45, 0.42],
        "k_slope/kl_weights_tail": [-0.05, -0.06, -0.04],
        "c1/rel_grad_diff": [1e-15, 2e-15, 7e-16],
    }
    return base | changes


def _verdicts(per_seed: dict[str, list[float]]) -> dict[str, str]:
    ev = evidence("cpu", "rare2d", SEEDS, 8, per_seed)
    return {r["id"]: r["verdict"] for r in [*ev.gates, *ev.claims]}


def test_every_claim_holds_on_a_run_that_supports_it():
    v = _verdicts(_numbers())
    assert all(x == HELD for x in v.values()), v
    assert [k for k in v if k.startswith("C")] == CLAIM_IDS


def test_failed_teacher_gate_makes_dependent_claims_untestable():
    """A teacher no better than a single Gaussian: every gated claim is untestable, C1 is not."""
    v = _verdicts(_numbers(**{"mmd/teacher": [0.40, 0.42, 0.41]}))
    assert v["G_teacher"] == NOT_HELD
    for c in CLAIM_IDS[1:]:
        assert v[c] == UNTESTABLE, (c, v)
    assert v["C1"] == HELD


def test_a_metric_blind_to_dropped_mass_makes_the_rare_claims_untestable():
    """The positive control fails (KL does not see the rare modes removed): C3 cannot be read."""
    v = _verdicts(_numbers(**{"kl_weights/teacher_no_rare": [0.005, 0.004, 0.006]}))
    assert v["G_detect"] == NOT_HELD
    assert v["C3"] == v["C3r"] == v["C5"] == UNTESTABLE
    assert v["C6"] == HELD  # an MMD claim, not gated on the mode metric


def test_an_estep_that_does_not_approach_rho_makes_its_claims_untestable():
    """A z-chain whose moves do not lower the KL to ρ: the EMD-vs-DI claims and C4 untestable;
    a z drift below its noise alone (G_zdrift) gates nothing; an unrelaxed ε-chain: the
    EMD-vs-DI claims untestable."""
    v = _verdicts(_numbers(**{"drift_to_noise_z_snr1/emd": [0.2, 0.3, 0.25]}))
    assert v["G_zdrift"] == NOT_HELD and v["C4"] == v["C3"] == HELD
    v = _verdicts(_numbers(**{"estep_kl_K8_tail/emd": [0.1, 0.12, 0.11]}))
    assert v["G_zkl"] == NOT_HELD
    assert v["C3"] == v["C3r"] == v["C3m"] == v["C4"] == UNTESTABLE and v["C7"] == HELD
    v = _verdicts(_numbers(**{"relax_eps/emd": [0.45, 0.47, 0.46]}))
    assert v["G_relax"] == NOT_HELD
    assert v["C3"] == v["C3r"] == v["C3m"] == v["C4"] == v["C7"] == UNTESTABLE
    assert v["C3b"] == HELD


def test_claims_can_fail():
    """EMD worse than DI and the 4-NFE teacher, a small variance ratio, a rising K trend."""
    v = _verdicts(
        _numbers(
            **{
                "kl_weights_tail/emd": [0.5, 0.55, 0.52],
                "mmd_tail/emd": [0.3, 0.35, 0.32],
                "gradvar_ratio_tail/emd": [20.0, 25.0, 22.0],
                "k_slope/kl_weights_tail": [0.05, 0.06, 0.04],
                "c1/rel_grad_diff": [10 * C1_TOL, 12 * C1_TOL, 11 * C1_TOL],
                "estep_kl_slope_tail/emd": [0.02, 0.03, 0.025],
            }
        )
    )
    for c in ("C1", "C2", "C3", "C3m", "C5", "C6", "C7"):
        assert v[c] == NOT_HELD, (c, v)


def test_metric_not_measured_is_untestable_not_dropped():
    numbers = _numbers()
    del numbers["kl_weights_tail/emd16"]
    ev = evidence("cpu", "rare2d", SEEDS, 8, numbers)
    c3b = next(c for c in ev.claims if c["id"] == "C3b")
    assert c3b["verdict"] == UNTESTABLE and "missing" in c3b["reason"]
    assert set(needed("rare2d", 8)) <= set(ev.metrics)


def _digits(**changes: list[float]) -> dict[str, str]:
    base = {
        "proxy_fid/teacher": [5.0, 5.2, 4.9],
        "proxy_fid/gaussian_fit": [40.0, 41.0, 39.0],
        "proxy_fid/generator_init": [300.0, 310.0, 305.0],
        "relax_eps/emd": [0.88, 0.87, 0.88],
        "proxy_fid_tail/emd": [8.0, 8.5, 7.9],
        "proxy_fid_tail/di": [12.0, 12.5, 11.0],
        "recall_tail/emd": [0.5, 0.55, 0.52],
        "recall_tail/di": [0.3, 0.35, 0.32],
    }
    ev = evidence("cpu-digits", "digits", SEEDS, 8, base | changes)
    return {r["id"]: r["verdict"] for r in [*ev.gates, *ev.claims]}


def test_digits_claims_hold_fail_and_are_gated_on_a_teacher_beating_a_trivial_generator():
    v = _digits()
    assert list(v) == ["G_teacher_d", "G_metric_d", "G_relax", "D1", "D1r"]
    assert all(x == HELD for x in v.values()), v
    v = _digits(**{"proxy_fid_tail/emd": [14.0, 15.0, 13.5], "recall_tail/emd": [0.1, 0.2, 0.1]})
    assert v["D1"] == v["D1r"] == NOT_HELD
    v = _digits(**{"proxy_fid/teacher": [45.0, 50.0, 48.0]})  # worse than a Gaussian fit
    assert v["G_teacher_d"] == NOT_HELD and v["D1"] == v["D1r"] == UNTESTABLE


def test_k_sweep_slope_per_seed():
    """C5's statistic: the per-seed slope against log2 K, negative when quality improves."""
    per = {f"kl_weights_tail/{m}": [0.5 - 0.1 * i, 0.4, 0.1 * i] for i, m in enumerate(K_SWEEP)}
    slope = k_slope(per, "kl_weights_tail")
    np.testing.assert_allclose(slope, [-0.1, 0.0, 0.1], atol=1e-12)
    del per["kl_weights_tail/emd16"]
    assert k_slope(per, "kl_weights_tail") is None
