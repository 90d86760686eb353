"""The entry point: smoke end to end, resume, gate failure → untestable, bad input."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from assist import reproduce as rep
from assist.claims import CLAIMS, GATES, build_evidence
from assist.configs import cpu_long, smoke

from reprokit.claims import validate
from reprokit.lifecycle import ReportTarget, Session
from reprokit.report import claims_table, section_markers
from reprokit.testing import run_entry


def exit_code(tmp_path: Path, *args: str) -> int:
    """The real entry() in-process, runs root under tmp_path."""
    return run_entry(rep.PROG, rep.run, list(args), tmp_path / "runs")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    tmp = tmp_path_factory.mktemp("smoke")
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert exit_code(tmp, "--profile", "smoke", "--out", str(tmp / "o")) == 0
    return json.loads((tmp / "o" / "metrics.json").read_text()), out.getvalue(), tmp


def test_smoke_end_to_end(smoke_run) -> None:
    """Every unit runs, the document is a valid reprokit.metrics/1 with the declared evidence,
    the report holds its table and the figure, and the console shows header, units and footer."""
    doc, out, tmp = smoke_run
    assert validate(doc, committed=False) == []
    assert [g["id"] for g in doc["gates"]] == [g.id for g in GATES]
    assert [c["id"] for c in doc["claims"]] == [c.id for c in CLAIMS]
    for name in (
        "heldout_psnr/assist",
        "heldout_psnr/oracle",
        "edit_psnr/assist_noop",
        "edit_psnr/assist_world",
        "edit_psnr_rigid/assist_inverse",
        "edit_psnr_intra/baseline",
        "edit_gap_intra/nomask",
        "edit_pq/assist",
        "heldout_miou/threshold",
    ):
        assert doc["metrics"][name]["n"] == 3, name
    assert "batched_speedup_4_nodes" in doc["metrics"]
    assert claims_table(doc) in (tmp / "o" / "RESULTS.md").read_text()
    assert (tmp / "o" / "edits.png").stat().st_size > 0
    assert "== assist · profile smoke" in out and "-- unit baseline-seed2" in out
    assert "-- unit eval-seed0" in out and "central claim C1" in out


def test_rerun_reuses_finished_units(smoke_run, capsys) -> None:
    doc, _, tmp = smoke_run
    assert exit_code(tmp, "--profile", "smoke", "--out", str(tmp / "o")) == 0
    out = capsys.readouterr().out
    assert "-- unit assist-A-seed0: finished earlier, result reused" in out
    again = json.loads((tmp / "o" / "metrics.json").read_text())
    assert again["claims"] == doc["claims"]


def _evidence(fit: float) -> dict:
    """Synthetic per-seed metrics where ASSIST's edits clearly beat every control."""
    seeds = [0, 1, 2]
    base = {
        "heldout_psnr/assist": fit,
        "heldout_psnr/mean_colour": 13.0,
        "heldout_psnr/baseline": 24.0,
        "heldout_depth_l1/assist": 0.04,
        "heldout_depth_l1/threshold": 0.08,
        "heldout_miou/assist": 0.9,
        "heldout_miou/threshold": 0.85,
        "edit_psnr/oracle": 25.0,
        "edit_psnr/oracle_noop": 10.0,
        "edit_psnr/assist": 22.0,
        "edit_psnr/assist_noop": 10.0,
        "edit_psnr/assist_world": 12.0,
    }
    per_seed = {k: {s: v + 0.1 * s for s in seeds} for k, v in base.items()}
    return build_evidence("smoke", per_seed, seeds).to_dict(1.0)


def test_a_failed_gate_makes_the_claims_untestable() -> None:
    ok, bad = _evidence(fit=25.0), _evidence(fit=15.0)  # 15 dB: only 2 dB above the mean colour
    c1 = {d["id"]: d for d in ok["claims"]}["C1"]
    assert c1["verdict"] == "held"
    gates = {g["id"]: g for g in bad["gates"]}
    assert not gates["G_fit"]["passed"]
    c1_bad = {d["id"]: d for d in bad["claims"]}["C1"]
    assert c1_bad["verdict"] == "untestable" and "G_fit" in c1_bad["reason"]
    c7 = {d["id"]: d for d in ok["claims"]}["C7"]  # the ablation was not run: untestable
    assert c7["verdict"] == "untestable"


def test_the_ablation_claim_needs_its_positive_control() -> None:
    """C7 is judged only when the gap opens for the wrong-frame control (G_gap)."""
    seeds = [0, 1, 2]
    base = {
        "heldout_psnr/assist": 25.0,
        "heldout_psnr/nomask": 23.0,
        "heldout_psnr/mean_colour": 13.0,
        "heldout_depth_l1/assist": 0.04,
        "heldout_depth_l1/threshold": 0.08,
        "heldout_miou/assist": 0.9,
        "heldout_miou/threshold": 0.85,
        "edit_gap_intra/assist": 0.2,
        "edit_gap_intra/nomask": 1.0,
        "edit_image_psnr_intra/assist": 24.8,
    }
    for world, verdict in ((21.0, "held"), (25.5, "untestable")):
        per_seed = {k: {s: v + 0.01 * s for s in seeds} for k, v in base.items()}
        per_seed["edit_image_psnr_intra/assist_world"] = {s: world + 0.02 * s for s in seeds}
        doc = build_evidence("smoke", per_seed, seeds).to_dict(1.0)
        c7 = {d["id"]: d for d in doc["claims"]}["C7"]
        assert c7["verdict"] == verdict, c7
        assert verdict == "held" or "G_gap" in c7["reason"]


BAD_INPUT = [
    (["--train.steps", "0"], "--train.steps: must be >= 1"),
    (["--train.lrr", "1"], "unknown option --train.lrr"),
    (["--methods", "baseline"], "--methods must include assist"),
    (["--methods", "assist,gan"], "--methods"),
    (["--seeds", "1,1,2"], "--seeds has duplicates"),
    (["--model.kind", "voxel"], "--model.kind: invalid choice 'voxel'"),
    (["--data.fov_deg", "200"], "--data.fov_deg"),
    (["--profile", "gpu"], "unknown profile 'gpu'"),
    (["--device", "cuda"], "cuda"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_is_one_line_before_any_step(tmp_path, capsys, args, message) -> None:
    argv = args if "--profile" in args else ["--profile", "smoke", *args]
    code = exit_code(tmp_path, *argv, "--out", str(tmp_path / "o"))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"{rep.PROG}: error:") and message in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("ckpt_*.pt"))


def test_cpu_long_writes_its_section_and_a_cpu_rewrite_keeps_it(smoke_run, monkeypatch) -> None:
    """The committed cpu-long report: long_metrics.json and a marked RESULTS.md section; a later
    cpu report rewrites RESULTS.md around it (reused smoke units stand in for both runs)."""
    _, _, tmp = smoke_run
    monkeypatch.setenv("REPROKIT_RUNS", str(tmp / "runs"))
    cfg, out = smoke(), tmp / "committed"
    out.mkdir()
    target = ReportTarget(out, out / "RESULTS.md", True, "test")
    target.results_md.write_text("# an earlier cpu report\n")
    with contextlib.redirect_stdout(io.StringIO()), Session("assist", "smoke", cfg) as session:
        res = rep.run_units(cfg, session)
        rep.write_report(cfg, rep.LONG, [], session, res, target)
        first = (out / "RESULTS.md").read_text()
        rep.write_report(cfg, "cpu", [], session, res, target)
    text = (out / "RESULTS.md").read_text()
    long_doc = json.loads((out / "long_metrics.json").read_text())
    assert validate(long_doc, committed=False) == []
    start, end = section_markers(rep.LONG)
    assert text.count(start) == text.count(end) == 1
    section = text.split(start)[1].split(end)[0]
    assert section == first.split(start)[1].split(end)[0]  # kept verbatim
    assert claims_table(long_doc) in section and "PROFILE=cpu-long" in section
    assert "long_edits.png" in section and (out / "long_edits.png").is_file()
    assert claims_table(json.loads((out / "metrics.json").read_text())) in text.split(start)[0]
    assert not (out / ".long_section.md").exists()


def test_only_the_unmodified_cpu_long_profile_reports_into_the_committed_results(tmp_path) -> None:
    class Folder:
        dir = tmp_path

    target = rep.report_place(rep.LONG, cpu_long(), Folder())
    assert target.committed and target.dir.parts[-2:] == ("results", "cpu")
    assert target.results_md.name == "RESULTS.md" and target.results_md.parent.name == "assist"
    other = cpu_long()
    other.train.steps = 7
    target = rep.report_place(rep.LONG, other, Folder())
    assert not target.committed and target.dir == tmp_path / "report"
