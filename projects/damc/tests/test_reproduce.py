import json
from pathlib import Path

import pytest
import torch
from damc.configs import paper, smoke
from damc.reproduce import main
from damc.train import build_models, load_data, train_latent_ebm

from reprokit.claims import validate
from reprokit.report import claims_table
from reprokit.testing import run_python

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_smoke_profile_writes_valid_evidence(tmp_path):
    """The real entry (smoke profile) writes a reprokit.metrics/1 document with every claim."""
    from damc.claims import CLAIMS, GATES

    cfg = smoke()
    cfg.out = tmp_path
    doc = main(cfg, "smoke")
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert validate(on_disk) == []
    assert [c["id"] for c in on_disk["claims"]] == [c.id for c in CLAIMS]
    assert [g["id"] for g in on_disk["gates"]] == [g.id for g in GATES]
    assert on_disk["claims"] == doc["claims"]
    for name in ("toy/arm_err/exact", "toy/arm_err/longrun", "digits/recon_mse/train_mean"):
        assert on_disk["metrics"][name]["n"] == len(cfg.seeds), name
    for fig in ("toy_pooled_posterior.png", "digits_samples.png", "toy_q_loss.png"):
        assert (tmp_path / fig).stat().st_size > 0
    assert claims_table(on_disk) in (tmp_path / "RESULTS.md").read_text()


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
    from damc.claims import build_evidence

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
    from damc.claims import build_evidence

    numbers = {k: v for k, v in _fake_numbers([0.1, 0.1, 0.1]).items() if k.startswith("digits")}
    ev = build_evidence("cpu", [0, 1, 2], numbers)
    verdicts = {c["id"]: c["verdict"] for c in ev.claims}
    assert verdicts["C4"] == verdicts["C5"] == "untestable"
    assert verdicts["C1"] == "held"
    assert validate(ev.to_dict(1.0)) == []


def test_bad_inputs_give_one_line_errors(tmp_path):
    cmd = ["-m", "damc.reproduce"]
    r = run_python(*cmd, "--bogus", "1", src=SRC)
    assert r.returncode == 2 and "bogus" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    from damc.configs import PROFILES

    from reprokit.config import parse

    with pytest.raises(SystemExit) as e:
        parse(PROFILES, ["--profile", "smoke", "--langevin.sigma", "-1"], prog="damc.reproduce")
    assert e.value.code == 2
    missing = tmp_path / "nope"
    r = run_python(
        *cmd,
        "--profile",
        "smoke",
        "--data.dataset",
        "image_folder",
        "--data.path",
        str(missing),
        "--toy.enabled",
        "false",
        "--out",
        str(tmp_path),
        src=SRC,
    )
    assert r.returncode == 1 and "nope" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_resume_gives_the_same_result(tmp_path):
    cfg = smoke()
    cfg.train.iterations, cfg.train.ckpt_every = 4, 2
    data = load_data(cfg, 0)
    full = train_latent_ebm(cfg, "damc", 0, data.x_train, torch.device("cpu"), tmp_path / "a")
    cfg_half = smoke()
    cfg_half.train.iterations, cfg_half.train.ckpt_every = 2, 2
    train_latent_ebm(cfg_half, "damc", 0, data.x_train, torch.device("cpu"), tmp_path / "b")
    resumed = train_latent_ebm(cfg, "damc", 0, data.x_train, torch.device("cpu"), tmp_path / "b")
    assert resumed.iteration == 4
    for k, m in full.modules().items():
        for a, b in zip(m.parameters(), resumed.modules()[k].parameters(), strict=True):
            assert torch.allclose(a, b, atol=1e-6), k


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    from reprokit.torch_utils import CheckpointError

    cfg = smoke()
    (tmp_path / "ckpt_000000002.pt").write_bytes(b"not a checkpoint")
    data = load_data(cfg, 0)
    with pytest.raises(CheckpointError):
        train_latent_ebm(cfg, "lebm", 0, data.x_train, torch.device("cpu"), tmp_path)


def test_paper_profile_builds_and_runs_two_steps(tmp_path):
    """Official CIFAR-10 networks (nz 128, ngf 128, Q with nxemb 1024, 100 diffusion steps);
    batch and Langevin steps shrunk so that two iterations fit in a CPU test."""
    cfg = paper()
    cfg.train.iterations, cfg.train.batch_size, cfg.train.ckpt_every = 2, 2, 0
    cfg.langevin.post_steps = cfg.langevin.prior_steps = 1
    cfg.damc.q_updates = 1
    G, E, _ = build_models(cfg, (3, 32, 32), "damc")
    n_g = sum(p.numel() for p in G.parameters())
    assert 10_000_000 < n_g < 20_000_000  # DCGAN-style _netG_cifar10 with ngf=128
    assert sum(p.numel() for p in E.parameters()) == 128 * 200 + 200 + 200 * 200 + 200 + 201
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    learner = train_latent_ebm(cfg, "damc", 1, x, torch.device("cpu"), tmp_path)
    assert learner.iteration == 2


def test_torchrun_ddp_two_processes(tmp_path):
    r = run_python(
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29531",
        "-m",
        "damc.train",
        "--profile",
        "smoke",
        "--methods",
        "damc",
        "--out",
        str(tmp_path),
        src=SRC,
        timeout=240,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "test recon MSE" in r.stdout
    assert any((tmp_path / "damc-seed0").glob("ckpt_*.pt"))
