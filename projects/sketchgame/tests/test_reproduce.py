"""The entry point: smoke end to end (validated metrics.json), resume (rerun and after SIGTERM),
gate failure → untestable, bad input → one-line error."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from pathlib import Path

import pytest
from sketchgame import reproduce as rep
from sketchgame.claims import CLAIMS, GATES, build_evidence
from sketchgame.configs import smoke as smoke_profile

from reprokit.claims import Evidence, validate
from reprokit.testing import run_entry

SMOKE = ["--profile", "smoke"]


def exit_code(tmp_path: Path, *args: str) -> int:
    """The real entry() in-process (runs root under tmp_path)."""
    return run_entry(rep.PROG, rep.run, list(args), tmp_path / "runs")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    tmp = tmp_path_factory.mktemp("smoke")
    assert exit_code(tmp, *SMOKE, "--out", str(tmp / "o")) == 0
    return json.loads((tmp / "o" / "metrics.json").read_text()), tmp


def test_smoke_writes_valid_metrics_and_report(smoke) -> None:
    doc, tmp = smoke
    assert validate(doc) == []
    keys = "complete_acc complete_steps max_acc senderfixed_steps unseen_cat_steps seen_steps"
    for key in [*keys.split(), "semanticity_r", "symbolicity_acc", "reinforce_acc"]:
        assert key in doc["metrics"], key
    assert "wall_time_s" in doc
    assert sum(c["central"] for c in doc["claims"]) == 1
    m, T = doc["metrics"], smoke_profile().game.max_step  # forced guesses by step, every setting
    assert m[f"senderfixed_forced_step{T}"]["values"] == m["senderfixed_forced_last"]["values"]
    assert "onestep_forced_step1" in m and "onestep_forced_step2" not in m
    assert (tmp / "o" / "RESULTS.md").exists() and (
        tmp / "o" / "sketches_over_training.png"
    ).exists()


def test_rerun_reuses_finished_units(smoke, capsys) -> None:
    doc, tmp = smoke
    assert exit_code(tmp, *SMOKE, "--out", str(tmp / "o2")) == 0
    again = json.loads((tmp / "o2" / "metrics.json").read_text())
    assert {k: v for k, v in again["metrics"].items()} == doc["metrics"]
    assert "reused" in capsys.readouterr().out.lower()


def _timeless(metrics: dict) -> dict:
    """The metrics without the wall-clock ones (seconds per game differ between runs)."""
    return {k: v for k, v in metrics.items() if not k.endswith("_seconds_per_game")}


def test_sigterm_mid_training_then_rerun_equals_an_uninterrupted_run(
    smoke, tmp_path: Path, capsys
) -> None:
    """SIGTERM during the 3rd training game of complete, seed 0: exit 143 with one line; the
    checkpoint saved at that game boundary resumes and the results match the smoke run."""
    from sketchgame import game

    doc, _ = smoke
    play, calls = game.play, []

    def play_then_signal(*args, **kw):
        if args[7:8] == (True,):  # a sampled (training) game
            calls.append(1)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGTERM)
        return play(*args, **kw)

    out = str(tmp_path / "o")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(game, "play", play_then_signal)
        assert exit_code(tmp_path, *SMOKE, "--out", out) == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert "interrupted by SIGTERM at complete seed 0 game 3" in err[-1], err
    assert "rerun the same command" in err[-1]
    assert exit_code(tmp_path, *SMOKE, "--out", out) == 0
    again = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert _timeless(again["metrics"]) == _timeless(doc["metrics"])


def test_gate_failure_makes_claims_untestable() -> None:
    seeds = [0, 1, 2]
    per_seed = {"senderfixed_forced_last": [0.5, 0.55, 0.6]}  # G_solvable fails (needs ≥ 0.9)
    per_seed |= {"familiarity_switch": [1.0, 1.2, 0.9], "render_grad_err": [1e-9] * 3}
    per_seed |= {"encoder_acc": [0.9] * 3, "chamfer_seen": [0.5] * 3}
    per_seed |= {"drift_seen": [0.9, 1.0, 1.1], "drift_unseen": [0.1, 0.2, 0.1]}
    doc = build_evidence("cpu", per_seed, seeds).to_dict(1.0)
    gates = {g["id"]: g for g in doc["gates"]}
    assert not gates["G_solvable"]["passed"] and gates["G_drift"]["passed"]
    c1 = next(c for c in doc["claims"] if c["id"] == "C1")
    assert c1["verdict"] == "untestable" and "G_solvable" in c1["reason"]
    per_seed["senderfixed_forced_last"] = [0.95, 0.96, 0.97]
    doc = build_evidence("cpu", per_seed, seeds).to_dict(1.0)
    assert next(c for c in doc["claims"] if c["id"] == "C1")["verdict"] == "held"


def test_shrinkage_claim_fails_an_always_step_one_receiver() -> None:
    from sketchgame.probes import shrinkage

    acc = [0.9] * 200
    assert shrinkage(acc, [1.0] * 200, 20, 0.05) == 0.0
    falling = [7.0 - 5.0 * i / 199 for i in range(200)]
    assert shrinkage(acc, falling, 20, 0.05) > 4.0
    ev = Evidence("sketchgame", "cpu", seeds=[0, 1, 2])
    ev.add("length_shrinkage", [0.0, 0.01, 0.02])
    c2b = next(c for c in CLAIMS if c.id == "C2b")
    ev.judge([], [dataclasses.replace(c2b, gates=(), central=True)])  # margin and direction
    assert ev.to_dict(1.0)["claims"][0]["verdict"] == "not held"


def test_declared_statements_are_consistent() -> None:
    ids = {g.id for g in GATES}
    assert all(set(c.gates) <= ids for c in CLAIMS)
    assert sum(c.central for c in CLAIMS) == 1


BAD = [
    (["--profile", "smoke", "--train.n_games", "0"], "--train.n_games"),
    (["--profile", "smoke", "--data.heldout_shapes", "blob"], "unknown shape 'blob'"),
    (["--profile", "smoke", "--game.size", "20"], "multiple of 8"),
    (["--profile", "smoke", "--settings", "max"], "need both 'complete' and 'senderfixed'"),
    (["--profile", "smoke", "--train.warmup_games", "9"], "at most 20%"),
    (["--profile", "smoke", "--game.gamma", "1.5"], "--game.gamma"),
    (["--profile", "gpu"], "unknown profile"),
    (["--profile", "smoke", "--seeds", ""], "--seeds"),
]


@pytest.mark.parametrize(("argv", "needle"), BAD, ids=[b[1] for b in BAD])
def test_bad_input_is_one_line_error(tmp_path: Path, capsys, argv: list[str], needle: str) -> None:
    assert exit_code(tmp_path, *argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("world.pt"))


def test_unmodified_cpu_long_reports_into_the_committed_results(tmp_path: Path) -> None:
    """cpu-long as given writes results/cpu/ and RESULTS.md; with an override, its run folder."""
    from sketchgame.configs import cpu_long

    class Folder:
        dir = tmp_path

    project = Path(rep.__file__).resolve().parents[2]
    target = rep.report_place(rep.LONG, cpu_long(), Folder())
    assert target.committed and target.dir == project / "results" / "cpu"
    assert target.results_md == project / "RESULTS.md"
    other = cpu_long()
    other.train.n_games = 7
    assert not rep.report_place(rep.LONG, other, Folder()).committed


def test_a_cpu_report_keeps_the_cpu_long_section(tmp_path: Path) -> None:
    results_md = tmp_path / "RESULTS.md"

    def report(text: str):
        return lambda path: path.write_text(f"# title\n\n## Gates\n\n{text}\n")

    rep.write_sections(results_md, False, report("cpu one"))
    rep.write_sections(results_md, True, report("long one"))
    rep.write_sections(results_md, False, report("cpu two"))
    text = results_md.read_text()
    assert "cpu two" in text and "long one" in text and "cpu one" not in text
    assert text.index("cpu two") < text.index("long one") and "### Gates" in text
    rep.write_sections(results_md, True, report("long two"))
    text = results_md.read_text()
    assert "long two" in text and "long one" not in text and "cpu two" in text
    assert text.count("cpu-long:start") == 1 and not (tmp_path / ".long_section.md").exists()


def test_raw_familiarity_contrast_can_hold_where_the_netted_switch_does_not() -> None:
    """C1a reads the issue's claim (2) as worded; C1 nets out the sender-fixed control's gap."""
    seeds = [0, 1, 2]
    per_seed = {"senderfixed_forced_last": [0.95, 0.96, 0.97], "render_grad_err": [1e-9] * 3}
    per_seed |= {"encoder_acc": [0.9] * 3, "chamfer_seen": [0.5] * 3}
    per_seed |= {"drift_seen": [0.9, 1.0, 1.1], "drift_unseen": [0.1, 0.2, 0.1]}
    per_seed |= {"unseen_cat_steps": [2.0, 1.8, 2.2], "seen_steps": [1.0, 1.0, 1.1]}
    per_seed |= {"familiarity_switch": [0.3, -0.5, 0.2]}  # the control lengthens as much
    doc = build_evidence("cpu", per_seed, seeds).to_dict(1.0)
    verdicts = {c["id"]: c["verdict"] for c in doc["claims"]}
    assert verdicts["C1a"] == "held" and verdicts["C1"] == "inconclusive"
