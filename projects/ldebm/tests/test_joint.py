"""The joint 2-D VAE: the joint loss reaches autoencoder and EBM, the joint-smoke entry writes a
valid document and a marked section, a failed gate → untestable, bad input."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from ldebm import joint, sections
from ldebm import reproduce as rep
from ldebm.configs import MethodConfig
from ldebm.joint_claims import CLAIMS, GATES, build_joint_evidence
from ldebm.target import grid16_official, pinwheel

from reprokit.claims import validate
from reprokit.lifecycle import ReportTarget
from reprokit.report import section_markers
from reprokit.testing import run_entry

MC = MethodConfig(hidden=8, emb_dim=8, n_blocks=1, langevin_steps=2, n_classes=4)


def test_joint_loss_trains_autoencoder_and_ebm_through_an_undetached_latent():
    torch.manual_seed(0)
    lrn = joint.build(MC)
    x = torch.from_numpy(grid16_official().sample(16, np.random.default_rng(0))[0])
    joint.joint_loss(lrn, x, torch.randint(0, 4, (16,))).backward()
    for net in (lrn.ae.encoder, lrn.ae.decoder, lrn.ebm):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_official_scale_grid_has_the_official_spacing_and_width():
    g = grid16_official()
    assert len(g.centres) == 16
    assert g.spacing == pytest.approx(2 / 3 * 4 / 1.414 * 4) and g.sigma == pytest.approx(
        1.4144, 1e-3
    )


def test_pinwheel_has_ten_labelled_arms_at_the_official_scale():
    x, ids = pinwheel(1000, np.random.default_rng(0))
    assert x.shape == (1000, 2) and len(np.unique(ids)) == 10 and np.bincount(ids).min() >= 90
    radius = np.linalg.norm(x, axis=1)
    assert 6 < np.median(radius) < 10  # features' radial mean 1, ×8
    angle = np.arctan2(x[:, 1], x[:, 0])
    for k in range(10):  # each arm is one angular band, so ids are recoverable from x
        centre = np.angle(np.exp(1j * angle[ids == k]).mean())
        spread = np.angle(np.exp(1j * (angle[ids == k] - centre)))
        assert np.quantile(np.abs(spread), 0.95) < np.pi / 4


def test_joint_smoke_writes_a_valid_document_and_a_marked_section(tmp_path, monkeypatch):
    folder = tmp_path / "r"

    def committed(*args, **kwargs) -> ReportTarget:
        folder.mkdir(parents=True, exist_ok=True)
        return ReportTarget(folder, folder / "RESULTS.md", True, "test")

    monkeypatch.setattr(sections, "report_target", committed)
    with contextlib.redirect_stdout(io.StringIO()):
        code = run_entry(rep.PROG, rep.run, ["--profile", "joint-smoke"], tmp_path / "runs")
    assert code == 0
    doc = json.loads((folder / "joint_metrics.json").read_text())
    assert validate(doc) == []
    assert [g["id"] for g in doc["gates"]] == [g.id for g in GATES]
    assert [c["id"] for c in doc["claims"]] == [c.id for c in CLAIMS]
    assert doc["metrics"]["joint/nmi/ldebm_noclust"]["n"] == 3
    start, end = section_markers("joint")
    text = (folder / "RESULTS.md").read_text()
    assert start in text and end in text


def test_a_failed_reconstruction_gate_makes_j1_untestable():
    per_seed = {
        "joint/recon_mse/ldebm": [2.0, 2.1, 1.9],
        "joint/recon_mse_shuffled/ldebm": [2.0, 2.1, 1.9],
        "joint/nmi/ldebm": [0.7, 0.72, 0.71],
        "joint/nmi/ldebm_noclust": [0.0, 0.01, 0.0],
    }
    doc = build_joint_evidence("cpu-joint", [0, 1, 2], per_seed).to_dict(1.0)
    assert next(c for c in doc["claims"] if c["id"] == "J1")["verdict"] == "untestable"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ldebm.pca_dim", "3"], "the latents are 2-D"),
        (["--methods", "svebm"], "invalid choice 'svebm'"),
        (["--seeds", "2,2"], "repeated seed"),
    ],
)
def test_joint_bad_input_is_one_line(tmp_path: Path, capsys, args, message):
    code = run_entry(rep.PROG, rep.run, ["--profile", "joint-smoke", *args], tmp_path / "runs")
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err
