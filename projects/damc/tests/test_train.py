"""The paper-size networks and the torchrun (DDP) entry point damc.train."""

from pathlib import Path

import torch
from damc.configs import paper
from damc.train import build_models, train_latent_ebm

from reprokit.testing import run_python

SRC = str(Path(__file__).resolve().parents[1] / "src")


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
