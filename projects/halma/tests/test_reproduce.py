"""The real entry point on the smoke profile: report, metric names, resume, bad input."""

import json

import pytest
from halma.agents import AGENT_NAMES
from halma.reproduce import run

from reprokit.claims import validate
from reprokit.lifecycle import entry


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
    assert names["cnn_gru_iid_success"]["missing"] == "agent not run in this profile"
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
    assert "resuming: 21 finished unit(s)" in capsys.readouterr().out
    after = json.loads((out / "metrics.json").read_text())
    assert after["metrics"] == before["metrics"]


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
