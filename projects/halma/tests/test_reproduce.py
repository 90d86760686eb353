"""The real entry point on the smoke profile: report, metric names, resume, bad input."""

import json

import pytest
from halma.agents import AGENT_NAMES, IMAGE_AGENTS
from halma.configs import LONG
from halma.reproduce import run, write_report

from reprokit.claims import validate
from reprokit.lifecycle import ReportTarget, entry
from reprokit.report import marked_section, section_markers


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("smoke")
    mp.setenv("REPROKIT_RUNS", str(base / "runs"))
    mp.setenv("REPROKIT_DATA", str(tmp_path_factory.getbasetemp() / "data"))
    out = base / "out"
    with pytest.raises(SystemExit) as e:
        entry("halma.reproduce", run, ["--profile", "smoke", "--out", str(out)])
    assert e.value.code == 0
    yield out, mp
    mp.undo()


def test_smoke_writes_a_valid_report(smoke):
    out, _ = smoke
    doc = json.loads((out / "metrics.json").read_text())
    assert validate(doc) == []
    names = doc["metrics"]
    for agent in AGENT_NAMES:
        for split in ("iid", "perceptual", "conceptual", "algorithmic", "permuted"):
            assert f"{agent}_{split}_success" in names and f"{agent}_{split}_steps" in names
    assert names["relational_iid_success"]["missing"] == "agent not run in this profile"
    for agent in IMAGE_AGENTS:
        assert f"{agent}_font_success" in names
    assert names["symbolic_font_success"]["missing"].startswith("a symbolic agent reads numbers")
    assert len(names["factored_reader_font_accuracy"]["values"]) == 3
    for split in ("iid", "perceptual", "conceptual", "algorithmic"):
        assert f"memory_oracle_{split}_speedup" in names
    for key in ("oracle_iid_steps", "env_steps_per_s_vectorised", "env_steps_per_s_loop"):
        assert key in names
    assert names["oracle_min_success"]["mean"] == 1.0
    gates = {g["id"]: g["passed"] for g in doc["gates"]}
    assert gates["G_oracle"] and gates["G_numbers"]
    assert "Gate" in (out / "RESULTS.md").read_text()


def test_rerun_reuses_every_unit(smoke, capsys):
    out, _ = smoke
    before = json.loads((out / "metrics.json").read_text())
    with pytest.raises(SystemExit):
        entry("halma.reproduce", run, ["--profile", "smoke", "--out", str(out)])
    assert "resuming: 24 finished unit(s)" in capsys.readouterr().out
    after = json.loads((out / "metrics.json").read_text())
    assert after["metrics"] == before["metrics"]


def test_a_cpu_report_keeps_the_cpu_long_section_and_cpu_long_rewrites_only_it(smoke, tmp_path):
    out, _ = smoke
    doc, metrics = json.loads((out / "metrics.json").read_text()), out / "metrics.json"
    results = tmp_path / "RESULTS.md"
    target = ReportTarget(tmp_path, results, True, "test")
    write_report(LONG, target, doc, metrics)  # the section alone
    section = marked_section(results, LONG)
    assert section is not None and f"{LONG} profile" in section
    write_report("cpu", target, doc, metrics)  # the cpu report, section kept
    text = results.read_text()
    assert text.startswith("# HALMA (reconstructed rules): cpu") and section in text
    write_report(LONG, target, doc, metrics)  # replaced, not repeated
    text = results.read_text()
    assert text.count(section_markers(LONG)[0]) == 1 and text.startswith("# HALMA")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rules.primitives", "1,-"], "unknown token '-'"),
        (["--layout.held_out", "9:up"], "no option expresses"),
        (["--agents", "lstm"], "invalid choice"),
        (["--ppo.lr", "-1"], "must be > 0"),
        (["--seeds", ""], "--seeds"),
    ],
)
def test_bad_input_is_one_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("REPROKIT_RUNS", str(tmp_path))
    with pytest.raises(SystemExit) as e:
        entry("halma.reproduce", run, ["--profile", "smoke", *args])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and message in err and len(err.splitlines()) == 1, err


def test_paper_profile_trains_two_updates_with_its_architecture(tmp_path):
    from halma.configs import PROFILES
    from halma.panel import digit_pool
    from halma.ppo import train

    from reprokit.config import override

    cfg = PROFILES["paper"]
    assert cfg.ppo.total_steps == 10_000_000 and cfg.n_boards == 1000
    small = override(
        cfg, {"ppo.n_envs": 4, "ppo.rollout": 3, "ppo.total_steps": 24, "ppo.n_train_boards": 4}
    )
    agent, history = train(
        "relational", small.ppo, small.rules, small.layout, digit_pool("train"), 0, tmp_path
    )
    assert len(history) == 2 and agent.hidden_size == cfg.ppo.hidden
