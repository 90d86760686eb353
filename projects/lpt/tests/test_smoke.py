"""The real entry point on the smoke profile, in a tmp dir; the evidence it writes; the gates."""

from __future__ import annotations

import json

from lpt.claims import claims, gates, judge
from lpt.reporting import SECTIONS

from reprokit.claims import HELD, UNTESTABLE, validate
from reprokit.lifecycle import ReportTarget
from reprokit.report import claims_table, marked_section, section_markers

CLAIM_IDS = {"C1", "C2", "C3", "C4", "C5"}
METHODS = ("lpt", "lpt_no_unet", "dt", "bc")


def test_smoke_profile_end_to_end(tmp_path, monkeypatch):
    from lpt.configs import smoke
    from lpt.reproduce import main

    monkeypatch.setenv("REPROKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("REPROKIT_RUNS", str(tmp_path / "runs"))
    cfg = smoke()
    cfg.out = tmp_path / "out"
    doc = main(cfg, "smoke")
    saved = json.loads((cfg.out / "metrics.json").read_text())
    assert validate(saved) == [] and saved["profile"] == "smoke"
    assert {c["id"] for c in saved["claims"]} == CLAIM_IDS
    assert [c["id"] for c in saved["claims"] if c["central"]] == ["C1"]
    assert {g["id"] for g in saved["gates"]} >= {
        "G_oracle",
        "G_fit_dt",
        "G_fit_bc",
        "G_reach",
        "G_bc_goal",
        "G_chain",
    }
    for name in ("chain/own_vs_other", "chain/prior_pair", "balance/action", "score/bc_goal"):
        assert len(saved["metrics"][name]["values"]) == 3
    assert saved["metrics"]["speed/rollout_speedup"]["value"] > 0
    assert doc["claims"] == saved["claims"]
    assert claims_table(saved) in (cfg.out / "RESULTS.md").read_text()
    assert (cfg.out / "target_sweep.png").exists()
    assert str(tmp_path) not in (cfg.out / "metrics.json").read_text()  # no machine paths
    _rerun_keeps_the_side_sections(cfg, tmp_path, monkeypatch)


def _rerun_keeps_the_side_sections(cfg, tmp_path, monkeypatch) -> None:
    """A rerun that rewrites the committed RESULTS.md (as the cpu profile does) keeps the marked
    sections of cpu-long and the cpu-<env> profiles (Connect Four's here) unchanged; the finished
    units are reused, so the rerun takes seconds."""
    from lpt import experiment
    from lpt.reproduce import main

    committed = tmp_path / "committed"
    committed.mkdir()
    sections = {}
    for tag in ("long", "connect4"):
        start, end = section_markers(tag)
        sections[tag] = f"{start}\n## {SECTIONS[tag]}\n\nG_chain: 0.1 vs 0.2\n{end}"
    (committed / "RESULTS.md").write_text("# old report\n\n" + "\n\n".join(sections.values()))
    target = ReportTarget(committed, committed / "RESULTS.md", committed=True, why="test")
    monkeypatch.setattr(experiment, "_report_target", lambda *args: target)
    main(cfg, "smoke")
    text = (committed / "RESULTS.md").read_text()
    assert (
        "# old report" not in text
        and claims_table(json.loads((committed / "metrics.json").read_text())) in text
    )
    for tag, section in sections.items():
        assert marked_section(committed / "RESULTS.md", tag) == section
    _long_profile_writes_its_own_section(cfg, committed, monkeypatch)


def _long_profile_writes_its_own_section(cfg, committed, monkeypatch) -> None:
    """cpu-long writes ``long_metrics.json`` and replaces only the ``long`` section."""
    from lpt import experiment
    from lpt.reproduce import main

    main_part = (committed / "RESULTS.md").read_text().split(section_markers("long")[0])[0]
    monkeypatch.setattr(experiment, "PROJECT_ROOT", committed)
    main(cfg, "cpu-long")
    doc = json.loads((committed / "long_metrics.json").read_text())
    assert validate(doc) == [] and doc["profile"] == "cpu-long"
    long = marked_section(committed / "RESULTS.md", "long")
    assert claims_table(doc) in long and "G_chain: 0.1 vs 0.2" not in long
    assert (committed / "RESULTS.md").read_text().startswith(main_part.rstrip())
    assert marked_section(committed / "RESULTS.md", "connect4") is not None


def _numbers(dt_fit: float) -> dict[str, list[float]]:
    """Per-seed numbers (3 seeds) where LPT clearly beats every baseline and all gates pass,
    except that DT's action loss is ``dt_fit``, against 0.5 for the mean action."""
    fit = {f"action_fit/{m}": [0.1, 0.12, 0.11] for m in METHODS} | {"action_fit/dt": [dt_fit] * 3}
    return fit | {
        "action_fit/mean_action": [0.5, 0.5, 0.5],
        "score/oracle": [100.0, 98.0, 101.0],
        "score/random": [0.0, 1.0, -1.0],
        "reach/best": [0.5, 0.6, 0.4],
        "score/lpt": [60.0, 62.0, 61.0],
        "score/lpt_ei": [70.0, 71.0, 73.0],
        "score/lpt_no_unet": [30.0, 35.0, 31.0],
        "score/dt": [20.0, 25.0, 21.0],
        "score/bc": [10.0, 12.0, 11.0],
        "spearman/lpt": [0.5, 0.6, 0.55],
        "score/bc_goal": [40.0, 45.0, 38.0],
        "chain/own_vs_other": [0.3, 0.32, 0.29],
        "chain/prior_pair": [0.05, 0.06, 0.05],
    }


def test_claims_are_held_when_every_gate_passes():
    ev = judge("maze2d_umaze", "cpu", [0, 1, 2], METHODS, _numbers(dt_fit=0.1))
    assert all(g["passed"] for g in ev.gates)
    assert {c["id"]: c["verdict"] for c in ev.claims} == dict.fromkeys(CLAIM_IDS, HELD)


def test_a_failed_gate_makes_its_claims_untestable():
    """DT never beats the mean action: C1 (LPT vs DT) is untestable, the others are still judged."""
    ev = judge("maze2d_umaze", "cpu", [0, 1, 2], METHODS, _numbers(dt_fit=0.9))
    verdicts = {c["id"]: c["verdict"] for c in ev.claims}
    assert verdicts.pop("C1") == UNTESTABLE and set(verdicts.values()) == {HELD}
    assert "G_fit_dt" in ev.central["reason"]
    assert validate(ev.to_dict(1.0)) == []


def test_collapsed_chains_make_every_lpt_claim_untestable():
    """G_chain fails (own-vs-other no larger than two prior draws): C1-C5 are untestable."""
    numbers = _numbers(dt_fit=0.1) | {"chain/own_vs_other": [0.05, 0.05, 0.06]}
    ev = judge("maze2d_umaze", "cpu", [0, 1, 2], METHODS, numbers)
    failed = [g["id"] for g in ev.gates if not g["passed"]]
    assert failed == ["G_chain"]
    assert {c["verdict"] for c in ev.claims} == {UNTESTABLE}


def test_data_that_cannot_teach_the_goal_makes_the_claims_untestable():
    numbers = _numbers(dt_fit=0.1) | {"score/bc_goal": [0.0, 1.0, -1.0]}
    ev = judge("maze2d_umaze", "cpu", [0, 1, 2], METHODS, numbers)
    assert [g["id"] for g in ev.gates if not g["passed"]] == ["G_bc_goal"]
    assert {c["verdict"] for c in ev.claims} == {UNTESTABLE}


def test_declarations_follow_the_trained_methods():
    """HalfCheetah trains no no-UNet ablation: no C4, no G_fit_lpt_no_unet, no maze G_reach."""
    ids = {c.id for c in claims("halfcheetah", ("lpt", "dt", "bc"))}
    assert ids == CLAIM_IDS - {"C4"}
    assert {g.id for g in gates("halfcheetah", ("lpt", "dt", "bc"))} == {
        "G_oracle",
        "G_fit_lpt",
        "G_fit_dt",
        "G_fit_bc",
    }
