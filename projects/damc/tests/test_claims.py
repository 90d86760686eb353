"""The gates and claims of damc.claims on made-up per-seed numbers (no training)."""

from damc.claims import build_evidence

from reprokit.claims import validate


def _fake_numbers(recon_damc: list[float]) -> dict[str, list[float]]:
    """Per-seed numbers in which DAMC wins every comparison by a wide margin."""
    return {
        "toy/arm_err_excess/longrun": [0.01, 0.0, 0.02],
        "toy/arm_err/damc": [0.1, 0.11, 0.09],
        "toy/arm_err/shortrun": [0.3, 0.32, 0.31],
        "toy/pooled_mmd/damc": [0.01, 0.02, 0.01],
        "toy/pooled_mmd/shortrun": [0.2, 0.1, 0.15],
        "digits/recon_mse/train_mean": [0.3, 0.31, 0.29],
        "digits/recon_mse/damc": recon_damc,
        "digits/recon_mse/lebm": [0.2, 0.21, 0.19],
        "digits/proxy_net_acc": [0.98, 0.97, 0.99],
        "digits/proxy_fid/damc": [5.0, 6.0, 5.5],
        "digits/proxy_fid/lebm": [15.0, 16.0, 17.0],
        "digits/auprc/damc": [0.9, 0.8, 0.85],
        "digits/auprc/lebm": [0.3, 0.4, 0.35],
    }


def test_failed_fit_gate_makes_digits_claims_untestable():

    ok = build_evidence("cpu", [0, 1, 2], _fake_numbers([0.1, 0.11, 0.09]))
    assert all(g["passed"] for g in ok.gates)
    assert [c["verdict"] for c in ok.claims] == ["held"] * 5
    # DAMC's reconstructions worse than painting the training-mean image: G_fit_damc fails
    bad = build_evidence("cpu", [0, 1, 2], _fake_numbers([0.5, 0.52, 0.49]))
    verdicts = {c["id"]: c["verdict"] for c in bad.claims}
    assert verdicts == {
        "C1": "untestable",
        "C2": "untestable",
        "C3": "untestable",
        "C4": "held",
        "C5": "held",
    }
    assert "G_fit_damc" in bad.central["reason"]


def test_unmeasured_metrics_make_claims_untestable_not_crash():
    """A run without the toy (or without LEBM) still writes a judged document."""

    numbers = {k: v for k, v in _fake_numbers([0.1, 0.1, 0.1]).items() if k.startswith("digits")}
    ev = build_evidence("cpu", [0, 1, 2], numbers)
    verdicts = {c["id"]: c["verdict"] for c in ev.claims}
    assert verdicts["C4"] == verdicts["C5"] == "untestable"
    assert verdicts["C1"] == "held"
    assert validate(ev.to_dict(1.0)) == []
