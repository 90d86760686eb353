"""The entry point: smoke end to end, gates → untestable, bad input, the paper profile."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
from pathlib import Path

import pytest
import torch
from ldebm import prior
from ldebm import reproduce as rep
from ldebm.claims import CLAIMS, GATES, PINWHEEL_GATES, build_evidence
from ldebm.configs import PROFILES

from reprokit.claims import validate
from reprokit.config import parse
from reprokit.testing import run_entry


def exit_code(tmp_path: Path, *args: str) -> int:
    """reproduce in-process through the real entry() (runs root under tmp_path)."""
    return run_entry(rep.PROG, rep.run, list(args), tmp_path / "runs")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    """One smoke run: (its metrics.json, stdout, tmp folder)."""
    tmp = tmp_path_factory.mktemp("smoke")
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert exit_code(tmp, "--profile", "smoke", "--out", str(tmp / "o")) == 0
    return json.loads((tmp / "o" / "metrics.json").read_text()), out.getvalue(), tmp


def test_smoke_writes_a_valid_document_with_every_gate_and_claim(smoke):
    doc, out, tmp = smoke
    assert validate(doc) == []
    assert [g["id"] for g in doc["gates"]] == [GATES[0].id, "G_fit_reachable"] + [
        g.id for g in GATES[1:]
    ] + [PINWHEEL_GATES[0].id, "G_fit_reachable_pinwheel"] + [g.id for g in PINWHEEL_GATES[1:]]
    assert [c["id"] for c in doc["claims"]] == [c.id for c in CLAIMS]
    for name in (
        "prior/mmd_sigma/ldebm",
        "prior/mmd_sigma/svebm",
        "symbols/nmi/ldebm_noclust",
        "symbols/nmi/ldebm_nomi",
        "density/heldout_ll/svebm",
        "sampler/tv_excess/ldebm",
        "prior/precision/exact_ancestral",
        "pinwheel/prior/mmd_sigma/ldebm",
        "pinwheel/prior/mmd_sigma/svebm",
        "pinwheel/prior/mode_kl/svebm",
        "pinwheel/density/heldout_ll/svebm",
        "pinwheel/sampler/tv_excess/ldebm",
        "pinwheel/prior/precision/exact_ancestral",
    ):
        assert doc["metrics"][name]["n"] == 3
    assert "central claim C1" in out
    assert (tmp / "o" / "RESULTS.md").exists() and (tmp / "o" / "samples_ldebm.png").exists()
    assert (tmp / "o" / "samples_pinwheel_svebm.png").exists()


def test_rerun_reuses_every_unit(smoke, capsys):
    doc, _, tmp = smoke
    assert exit_code(tmp, "--profile", "smoke", "--out", str(tmp / "o")) == 0
    out = capsys.readouterr().out
    # 3 seeds × (grid: reference + 4 methods, pinwheel: reference + 2 methods)
    assert out.count("finished earlier, result reused") == 24
    again = json.loads((tmp / "o" / "metrics.json").read_text())
    assert again["metrics"] == doc["metrics"]


def _comparable(doc: dict) -> dict:
    return {k: v for k, v in doc["metrics"].items() if "train_time_s/" not in k}


def test_sigterm_mid_training_then_rerun_ends_with_the_same_numbers(
    smoke, tmp_path, monkeypatch, capsys
):
    real, calls = prior.ldebm_loss, []

    def interrupting(*a, **kw):
        calls.append(1)
        if len(calls) == 5:  # seed 0: ldebm's 3 iterations, then ldebm_noclust's second
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*a, **kw)

    monkeypatch.setattr(prior, "ldebm_loss", interrupting)
    args = ("--profile", "smoke", "--out", str(tmp_path / "o"))
    assert exit_code(tmp_path, *args) == 143
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "interrupted by SIGTERM at ldebm_noclust seed 0 iteration 2" in last, last
    monkeypatch.setattr(prior, "ldebm_loss", real)
    assert exit_code(tmp_path, *args) == 0
    assert "-- unit ldebm-seed0: finished earlier, result reused" in capsys.readouterr().out
    again = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert _comparable(again) == _comparable(smoke[0])


@pytest.mark.parametrize(
    ("gate", "metric", "claim"),
    [
        ("G_fit_ldebm", "prior/precision/ldebm", "C1"),
        ("G_fit_reachable", "prior/precision/exact_ancestral", "C1"),
        ("G_fit_ldebm_pinwheel", "pinwheel/prior/precision/ldebm", "P1"),
        ("G_fit_reachable_pinwheel", "pinwheel/prior/precision/exact_ancestral", "P1"),
    ],
)
def test_a_failed_gate_makes_its_claims_untestable(gate, metric, claim):
    seeds = [0, 1, 2]
    per_seed = {}
    for p in ("", "pinwheel/"):
        per_seed |= {
            f"{p}prior/precision/ldebm": [0.70, 0.71, 0.69],
            f"{p}prior/precision/exact_ancestral": [0.80, 0.81, 0.79],
            f"{p}prior/precision/half_gap": [0.62, 0.62, 0.62],
            f"{p}prior/mmd_sigma/ldebm": [0.001, 0.001, 0.001],
            f"{p}prior/mmd_sigma/svebm": [0.01, 0.01, 0.01],
        }
    per_seed[metric] = [0.40, 0.41, 0.39]
    doc = build_evidence("cpu", seeds, per_seed).to_dict(1.0)
    fit = next(g for g in doc["gates"] if g["id"] == gate)
    assert fit["verdict"] == "not held" and not fit["passed"]
    judged = {c["id"]: c for c in doc["claims"]}
    assert judged[claim]["verdict"] == "untestable" and gate in judged[claim]["reason"]
    other = judged["P1" if claim == "C1" else "C1"]  # the other target's claim is not touched
    assert gate not in other["reason"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "gpu"], "unknown profile 'gpu'"),
        (["--ldebm.lrr", "1"], "unknown option --ldebm.lrr"),
        (["--methods", "vae"], "invalid choice 'vae'"),
        (["--seeds", "none"], "--seeds"),
        (["--svebm.step_size", "-0.4"], "must be > 0"),
        (["--seeds", "1,1"], "repeated seed"),
        (["--ldebm.pca_dim", "3"], "the latents are 2-D"),
        (["--experiment.check_level", "6"], "needs --ldebm.T above it"),
        (["--ldebm.n_classes", "500", "--experiment.pool_size", "100"], "exceeds"),
    ],
)
def test_bad_input_is_one_line_before_any_step(tmp_path, capsys, args, message):
    code = exit_code(tmp_path, "--profile", "smoke", *args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("result.json"))


def test_paper_profile_builds_the_official_sizes_and_takes_two_steps():
    _, cfg = parse(PROFILES, ["--profile", "paper"])
    mc = cfg.ldebm
    assert (mc.hidden, mc.n_blocks, mc.langevin_steps, mc.T) == (200, 12, 50, 6)
    torch.manual_seed(0)
    for method in ("ldebm", "svebm"):
        m = cfg.method(method)
        lrn = prior.build(method, m)
        opt = torch.optim.Adam(lrn.ebm.parameters(), lr=m.lr)
        z = torch.randn(8, 2)  # batch shrunk from the official 1000 / 500
        for _ in range(2):
            if method == "ldebm":
                loss = prior.ldebm_loss(lrn, m, z, torch.randint(0, m.n_classes, (8,)))
            else:
                loss = prior.svebm_step_loss(lrn, m, z)
            opt.zero_grad()
            loss.backward()
            opt.step()
            assert torch.isfinite(loss)


def test_cpu_evaluation_chains_are_four_times_the_training_chains_for_every_method():
    _, cfg = parse(PROFILES, ["--profile", "cpu"])
    _, pw = parse(PROFILES, ["--profile", "cpu-pinwheel"])
    assert cfg.experiment.reachability and cfg.datasets == ("grid",)
    assert pw.units() == [("pinwheel", "ldebm"), ("pinwheel", "svebm")]
    assert pw.method("ldebm", "pinwheel").n_classes == 10 and cfg.ldebm.n_classes == 16
    assert cfg.svebm.iterations == 2 * cfg.ldebm.iterations  # about equal wall clock
    for c in (cfg, pw):
        for d, m in c.units():
            assert c.method(m, d).sample_steps == 4 * c.method(m, d).langevin_steps
    _, paper = parse(PROFILES, ["--profile", "paper"])  # official: the training chains
    assert paper.ldebm.sample_steps == 0 and not paper.experiment.reachability


def test_reachability_gate_is_judged_only_where_measured(smoke):
    doc, _, _ = smoke
    assert [g["id"] for g in doc["gates"]][:2] == ["G_fit_ldebm", "G_fit_reachable"]
    without = build_evidence("paper", [0, 1, 2], {"prior/precision/ldebm": [0.8] * 3})
    assert "G_fit_reachable" not in [g["id"] for g in without.to_dict(1.0)["gates"]]


def test_cpu_pinwheel_writes_its_marked_section_and_a_cpu_rerun_keeps_it(tmp_path, monkeypatch):
    from ldebm import sections

    from reprokit.lifecycle import ReportTarget
    from reprokit.report import section_markers

    folder = tmp_path / "r"

    def committed(*args, **kwargs) -> ReportTarget:
        folder.mkdir(parents=True, exist_ok=True)
        return ReportTarget(folder, folder / "RESULTS.md", True, "test")

    monkeypatch.setattr(sections, "report_target", committed)
    monkeypatch.setattr(rep, "report_target", committed)
    with contextlib.redirect_stdout(io.StringIO()):
        assert exit_code(tmp_path, "--profile", "smoke", "--datasets", "pinwheel") == 0
    doc = json.loads((folder / "prior_pinwheel_metrics.json").read_text())
    assert validate(doc) == []
    assert [c["id"] for c in doc["claims"]] == ["P1", "P2"]
    assert next(c for c in doc["claims"] if c["central"])["id"] == "P1"
    start, end = section_markers("prior_pinwheel")
    section = (folder / "RESULTS.md").read_text().split(start, 1)[1].split(end, 1)[0]
    assert "samples_pinwheel_ldebm.png" in section
    with contextlib.redirect_stdout(io.StringIO()):  # the grid run rewrites RESULTS.md ...
        assert exit_code(tmp_path, "--profile", "smoke", "--datasets", "grid") == 0
    text = (folder / "RESULTS.md").read_text()
    assert start + section + end in text  # ... and keeps the pinwheel section
    assert "| C1 (central)" in text.split(start)[0]  # the grid's own claims table above it
