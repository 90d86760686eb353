import json
from pathlib import Path

import numpy as np
import pytest
import torch
from damc.configs import paper, smoke
from damc.reproduce import main
from damc.train import build_models, load_data, train_latent_ebm

from reprokit.testing import run_python

SRC = str(Path(__file__).resolve().parents[1] / "src")
ISSUE_KEYS = [
    "toy_damc_mmd",
    "toy_shortrun_mmd",
    "toy_longrun_mmd",
    "digits_damc_proxy_fid",
    "digits_lebm_proxy_fid",
    "digits_damc_recon_mse",
    "digits_lebm_recon_mse",
    "digits_damc_auprc",
    "digits_lebm_auprc",
    "wall_time_s",
]


def test_smoke_profile_end_to_end(tmp_path):
    cfg = smoke()
    cfg.out = tmp_path
    metrics = main(cfg, "smoke")
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    for k in ISSUE_KEYS:
        assert k in on_disk and np.isfinite(on_disk[k]), k
    assert on_disk["toy_damc_mmd"] == metrics["toy_damc_mmd"]
    for fig in ("toy_pooled_posterior.png", "digits_samples.png", "toy_q_loss.png"):
        assert (tmp_path / fig).stat().st_size > 0
    assert "Claims" in (tmp_path / "RESULTS.md").read_text()


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


def test_update_readme_copies_the_claim_table(tmp_path):
    from damc.report import update_readme

    readme, res = tmp_path / "README.md", tmp_path / "RESULTS.md"
    readme.write_text(
        "# x\n## Results\n<!-- results:start (auto) -->\nold\n<!-- results:end -->\n## D\n"
    )
    res.write_text("# R\n| a | b |\n| --- | --- |\n| 1 | 2 |\n- Wall time: 1 s\n")
    update_readme(readme, res)
    text = readme.read_text()
    assert "| 1 | 2 |" in text and "old" not in text and text.endswith("## D\n")
    assert "- Wall time: 1 s" in text
