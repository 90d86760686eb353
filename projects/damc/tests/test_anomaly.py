"""Anomaly detection (profile cpu-anomaly): the AUPRC, the class split, the evidence, the path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from damc import reproduce as rep
from damc.anomaly import class_split, pr_auc, random_score_auprc
from damc.claims import build_anomaly_evidence, pair_id
from damc.configs import PROFILES, cpu_anomaly, smoke
from damc.damc import amortizer_loss, build_learner, init_posterior, init_prior
from damc.train import build_models

from reprokit.claims import validate
from reprokit.lifecycle import ReportTarget
from reprokit.report import marked_section
from reprokit.testing import run_entry


def test_pr_auc_matches_a_hand_computed_curve() -> None:
    """Scores 0.9 … 0.5 with anomalies at 0.9 and 0.7: the curve's points (recall, precision)
    are (0, 1), (½, 1), (½, ½), (1, ⅔) (it stops at the first full recall), so the trapezoid
    area is ½·1 + 0 + ½·(½ + ⅔)/2 = 19/24; average precision (½·1 + ½·⅔ = 5/6) is another rule."""
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    labels = np.array([True, False, True, False, False])
    assert pr_auc(scores, labels) == pytest.approx(19 / 24)
    assert pr_auc(np.where(labels, 1.0, 0.0), labels) == pytest.approx(1.0)  # a perfect score


def test_random_score_gets_chance_auprc() -> None:
    labels = np.random.default_rng(2026).random(2000) < 0.36
    values = [random_score_auprc(labels, seed, draws=1) for seed in range(1, 6)]
    assert abs(np.mean(values) - labels.mean()) < 0.03
    assert random_score_auprc(labels, 1) == random_score_auprc(labels, 1)  # seeded


def test_class_split_never_trains_on_the_held_out_class() -> None:
    y = np.repeat(np.arange(10), 20)
    x = np.arange(len(y), dtype=np.float32)[:, None, None, None] * np.ones((1, 1, 2, 2), np.float32)
    split = class_split(x, y, held=4, train_fraction=0.8, split_seed=42)
    train_ids = set(split.x_train[:, 0, 0, 0].long().tolist())
    test_ids = split.x_test[:, 0, 0, 0].long().numpy()
    assert not any(y[i] == 4 for i in train_ids)  # the held-out class never trains
    assert set(test_ids[split.is_anomaly]) == set(np.flatnonzero(y == 4))  # its whole pool
    assert (y[test_ids] == 4).tolist() == split.is_anomaly.tolist()
    normal = set(np.flatnonzero(y != 4))
    assert train_ids | set(test_ids[~split.is_anomaly]) == normal  # normals: train ∪ test
    assert not train_ids & set(test_ids.tolist())
    assert len(train_ids) == int(0.8 * len(normal))
    assert split.x_test_normal.shape[0] == len(normal) - len(train_ids)
    again = class_split(x, y, 4, 0.8, 42)
    assert torch.equal(again.x_train, split.x_train)  # fixed split, whatever the training seed
    other = class_split(x, y, 4, 0.8, 7)
    assert not torch.equal(other.x_train, split.x_train)


def test_anomaly_recipe_switches() -> None:
    """prior_init="posterior" starts the prior chains at z₀; q_loss="both" is the conditional
    plus the unconditional ε-loss on the same z⁺ (official train_anomaly_det.py)."""
    cfg = smoke()
    torch.manual_seed(0)
    learner = build_learner(cfg, "damc", *build_models(cfg, (1, 8, 8), "damc"))
    x = torch.rand(6, 1, 8, 8) * 2 - 1
    z0 = init_posterior(learner, x)
    assert torch.equal(init_prior(learner, z0, "posterior"), z0)
    ones = torch.ones(6, 1)
    torch.manual_seed(1)
    both = amortizer_loss(learner.Q, x, z0, z0, ones * 0.0, "posterior", "both")
    torch.manual_seed(1)
    expected = learner.Q(z0, x, ones).mean() + learner.Q(z0, x, 0.0 * ones).mean()
    assert torch.allclose(both, expected)
    official = cpu_anomaly()
    assert (official.model.nz, official.langevin.sigma) == (8, 8 / 28)  # σ = 1 scaled to 8×8
    assert (official.optim.g_lr, official.optim.e_lr, official.damc.q_lr) == (1e-4, 5e-5, 1e-4)
    assert official.damc.q_weight_decay == 0.0


def _pairs(values: dict[str, list[float]], classes=(1, 4)) -> dict[str, dict[int, float]]:
    ids = [pair_id(s, c) for s in range(3) for c in classes]
    out = {k: dict(zip(ids, v, strict=True)) for k, v in values.items()}
    for c in classes:
        for m in ("damc", "lebm"):
            out[f"anomaly/auprc_class{c}/{m}"] = {
                p: out[f"anomaly/auprc/{m}"][p] for p in ids if p % 10 == c
            }
    return out


def test_failed_random_score_gate_makes_the_anomaly_claims_untestable() -> None:
    good = {
        "anomaly/auprc/damc": [0.8, 0.7, 0.82, 0.75, 0.79, 0.71],
        "anomaly/auprc/lebm": [0.5, 0.6, 0.52, 0.55, 0.49, 0.61],
        "anomaly/auprc/chance": [0.36] * 6,
        "anomaly/recon_mse/damc": [0.1] * 6,
        "anomaly/recon_mse/lebm": [0.12] * 6,
        "anomaly/recon_mse/train_mean": [0.3] * 6,
    }
    pairs = [pair_id(s, c) for s in range(3) for c in (1, 4)]
    fine = good | {"anomaly/auprc_excess/random": [0.0] * 6}
    ok = build_anomaly_evidence("t", _pairs(fine), pairs, (1, 4))
    assert {c["id"]: c["verdict"] for c in ok.claims}["A1"] == "held"
    bad = good | {"anomaly/auprc_excess/random": [0.2, 0.25, 0.3, 0.2, 0.22, 0.28]}
    ev = build_anomaly_evidence("t", _pairs(bad), pairs, (1, 4))
    assert all(c["verdict"] == "untestable" for c in ev.claims if c["id"] != "A4")
    assert "GA_random" in next(c for c in ev.claims if c["id"] == "A1")["reason"]


def test_smoke_anomaly_end_to_end_and_the_sections_survive(tmp_path, monkeypatch) -> None:
    """The real entry: every (seed, class) pair of both methods, a valid document; a committed
    cpu-anomaly run adds its marked section, a cpu run keeps it, a rerun (units reused) replaces
    it (the committed target is redirected into tmp_path)."""
    committed = ReportTarget(tmp_path / "results", tmp_path / "RESULTS.md", True, "test")
    committed.dir.mkdir()
    monkeypatch.setattr(rep, "_target", lambda cfg, profile, session: committed)
    runs = tmp_path / "runs"
    assert run_entry(rep.PROG, rep.run, ["--profile", "smoke-anomaly"], runs) == 0
    doc = json.loads((committed.dir / "anomaly_metrics.json").read_text())
    assert validate(doc) == []
    assert doc["seeds"] == [1, 4, 11, 14, 21, 24]  # 10·seed + class: every seed, every class
    assert doc["info"]["pairs"] == [[s, c] for s in range(3) for c in (1, 4)]
    assert next(c for c in doc["claims"] if c["central"])["id"] == "A1"
    assert doc["metrics"]["anomaly/auprc_class4/damc"]["seeds"] == [4, 14, 24]
    section = marked_section(committed.results_md, rep.ANOMALY)
    assert section is not None and "A1_c4" in section
    no_toy = ["--profile", "smoke", "--seeds", "0", "--toy.enabled", "false"]
    assert run_entry(rep.PROG, rep.run, no_toy, runs) == 0
    text = committed.results_md.read_text()
    assert marked_section(committed.results_md, rep.ANOMALY) == section  # the cpu run kept it
    assert "G_fit_damc" in text.split(section)[0]
    assert run_entry(rep.PROG, rep.run, ["--profile", "smoke-anomaly"], runs) == 0
    text = committed.results_md.read_text()
    assert text.count(rep.ANOMALY + ":start") == 1 and "G_fit_damc" in text


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["--anomaly.classes", "1,1"], "--anomaly.classes: [1, 1] repeats a value"),
        (["--anomaly.classes", "12"], "--anomaly.classes"),
        (["--digits", "true"], "--anomaly.enabled: the anomaly experiment runs alone"),
        (["--anomaly.train_fraction", "1.5"], "--anomaly.train_fraction"),
    ],
)
def test_bad_anomaly_input_is_one_line(tmp_path: Path, capsys, given, message) -> None:
    code = run_entry(rep.PROG, rep.run, ["--profile", "smoke-anomaly", *given], tmp_path)
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1


def test_cpu_anomaly_reports_into_the_committed_results(tmp_path) -> None:
    class Folder:
        dir = tmp_path

    target = rep._target(cpu_anomaly(), rep.ANOMALY, Folder())
    assert target.committed and target.dir.name == "cpu" and target.results_md.name == "RESULTS.md"
    assert "cpu-anomaly" in PROFILES
