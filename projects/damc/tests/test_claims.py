"""The gates and claims of damc.claims on made-up per-seed numbers (no training)."""

from damc.claims import build_evidence

from reprokit.claims import validate

TOY, DIGITS = (0, 1, 2, 3, 4), (0, 1, 2)


def _fake_numbers(longrun_excess: list[float]) -> dict[str, dict[int, float]]:
    """Per-seed numbers in which DAMC wins every comparison by a wide margin; the toy on five
    seeds, digits on three."""
    toy = {
        "toy/mmd_x_excess/longrun": longrun_excess,
        "toy/arm_err_excess/longrun": [0.0, 0.01, 0.0, 0.02, 0.01],
        "toy/mmd_x/prior": [2.0, 1.9, 2.1, 2.0, 1.8],
        "toy/mmd_x/exact": [0.0, 0.001, -0.002, 0.0, 0.001],
        "toy/mmd_x/damc": [0.01, 0.02, 0.01, 0.015, 0.01],
        "toy/mmd_x_excess/damc": [0.01, 0.02, 0.01, 0.015, 0.01],
        "toy/mmd_x/shortrun_matched": [0.3, 0.35, 0.4, 0.3, 0.32],
        "toy/joint_mmd/prior": [0.5, 0.6, 0.55, 0.5, 0.6],
        "toy/joint_mmd/exact": [0.0, 0.001, 0.0, 0.0, 0.001],
        "toy/joint_mmd/damc": [0.01, 0.01, 0.02, 0.01, 0.01],
        "toy/joint_mmd/shortrun_matched": [0.2, 0.1, 0.15, 0.2, 0.1],
        "toy/pooled_mmd/damc": [0.01, 0.01, 0.02, 0.01, 0.01],
        "toy/pooled_mmd/shortrun_matched": [0.2, 0.1, 0.15, 0.2, 0.1],
    }
    digits = {
        "digits/recon_mse/train_mean": [0.3, 0.31, 0.29],
        "digits/recon_mse/damc": [0.1, 0.11, 0.09],
        "digits/recon_mse/lebm": [0.2, 0.21, 0.19],
        "digits/recon_mse/lebm_long": [0.15, 0.16, 0.14],
        "digits/proxy_net_acc": [0.98, 0.97, 0.99],
        "digits/proxy_fid/damc": [5.0, 6.0, 5.5],
        "digits/proxy_fid/lebm": [15.0, 16.0, 17.0],
        "digits/proxy_fid/lebm_long": [12.0, 13.0, 14.0],
        "digits/auprc/damc": [0.9, 0.8, 0.85],
        "digits/auprc/lebm": [0.3, 0.4, 0.35],
    }
    out = {k: dict(zip(TOY, v, strict=True)) for k, v in toy.items()}
    return out | {k: dict(zip(DIGITS, v, strict=True)) for k, v in digits.items()}


def test_failed_reference_gate_makes_the_toy_claims_untestable():
    ok = build_evidence("cpu", _fake_numbers([0.0, 0.01, 0.005, 0.0, 0.01]))
    assert all(g["passed"] for g in ok.gates)
    assert [c["verdict"] for c in ok.claims] == ["held"] * 9
    assert ok.seeds == [0, 1, 2, 3, 4] and validate(ok.to_dict(1.0)) == []
    # long-run Langevin far from the exact posterior: G_ref fails, C1-C4 are untestable
    bad = build_evidence("cpu", _fake_numbers([0.2, 0.25, 0.18, 0.3, 0.22]))
    verdicts = {c["id"]: c["verdict"] for c in bad.claims}
    assert [verdicts[c] for c in ("C1", "C2", "C3", "C4")] == ["untestable"] * 4
    assert [verdicts[c] for c in ("C5", "C6", "C7", "C8", "C9")] == ["held"] * 5
    assert "G_ref" in bad.central["reason"]


def test_unmeasured_metrics_make_claims_untestable_not_crash():
    """A run without the toy (or without LEBM) still writes a judged document."""
    numbers = {k: v for k, v in _fake_numbers([0.0] * 5).items() if k.startswith("digits")}
    ev = build_evidence("cpu", numbers)
    verdicts = {c["id"]: c["verdict"] for c in ev.claims}
    assert {verdicts[c] for c in ("C1", "C2", "C3", "C4")} == {"untestable"}
    assert verdicts["C5"] == "held"
    assert validate(ev.to_dict(1.0)) == []
