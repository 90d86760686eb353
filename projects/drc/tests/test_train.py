"""Training: persistent chains, deterministic resume, the paper profile, DDP under torchrun."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import torch
from drc.configs import paper, smoke
from drc.data import make_sprites
from drc.train import PersistentChains, batch_indices, fit

from reprokit.testing import run_python

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_only_drawn_chains_move() -> None:
    cfg = smoke()
    cfg.train.iters, cfg.train.batch_size = 1, 4
    x = make_sprites(12, 16, 2, seed=0)["x"]
    torch.manual_seed(0)
    init = PersistentChains(12, 8 + 4 + 8, torch.Generator().manual_seed(0))
    tr = fit(cfg, x, seed=0)
    idx, _ = batch_indices(torch.arange(12), 4, 0, 0)
    moved = (tr.chains.post != init.post).any(1)
    assert moved[idx].all() and moved.sum() == 4
    assert ((tr.chains.prior != init.prior).any(1)).sum() == 4


def test_resume_matches_uninterrupted(tmp_path) -> None:
    cfg = smoke()
    cfg.train.iters, cfg.train.ckpt_every = 4, 2
    x = make_sprites(12, 16, 2, seed=0)["x"]
    full = fit(cfg, x, seed=3, ckpt_path=tmp_path / "a.pt")
    cfg.train.iters = 2
    fit(cfg, x, seed=3, ckpt_path=tmp_path / "b.pt")
    cfg.train.iters, cfg.train.resume = 4, True
    resumed = fit(cfg, x, seed=3, ckpt_path=tmp_path / "b.pt")
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(full.chains.post, resumed.chains.post)


def test_paper_profile_two_steps_on_cpu() -> None:
    """The official architecture (1024-channel decoders, 200 classes), 128x128, batch 1, 2 steps."""
    cfg = paper()
    cfg.train.iters, cfg.train.batch_size = 2, 1
    cfg.langevin.K0, cfg.langevin.K1 = 1, 1
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 128, 128)).astype(np.float32)
    tr = fit(cfg, x, seed=0)
    fg = tr.model.fg_net
    n_dec = sum(
        p.numel() for m in (fg.fc, fg.decode, fg.im_head, fg.ma_head) for p in m.parameters()
    )
    chans = (128, 1024, 512, 256, 128, 64)
    convs = sum(a * b * 9 + 2 * b for a, b in itertools.pairwise(chans))  # conv + IN affine
    official = (256 * 2048 + 2048) + convs + (64 * 3 * 9 + 3) + (64 * 9 + 1)
    assert n_dec == official  # the official FgNet generator: 7.97M parameters
    assert len(tr.history) == 1 and np.isfinite(tr.history[0]["loss_G"])


def test_ddp_two_processes(tmp_path) -> None:
    p = run_python(
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "drc.train",
        "--profile",
        "smoke",
        "--out",
        str(tmp_path),
        src=SRC,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert "held-out IoU" in p.stdout
    assert (tmp_path / "train_seed0.pt").exists()


def test_nan_loss_stops_with_a_message(tmp_path, monkeypatch) -> None:
    import drc.train as train_mod
    import pytest

    from reprokit.torch_utils import DivergenceError

    cfg = smoke()
    cfg.train.iters, cfg.train.ckpt_every = 4, 1
    real = train_mod.generator_loss

    def nan_after_two(*args, **kw):
        loss, terms = real(*args, **kw)
        nan_after_two.calls += 1
        return (loss * float("nan") if nan_after_two.calls > 2 else loss), terms

    nan_after_two.calls = 0
    monkeypatch.setattr(train_mod, "generator_loss", nan_after_two)
    x = make_sprites(8, 16, 2, seed=0)["x"]
    with pytest.raises(DivergenceError, match="step 2"):
        fit(cfg, x, seed=0, ckpt_path=tmp_path / "c.pt")
    from reprokit.torch_utils import load_checkpoint

    assert load_checkpoint(tmp_path / "c.pt")["step"] == 2  # the last good checkpoint is kept
