"""Training: persistent chains, exact resume, refused checkpoints, the paper profile, DDP."""

from __future__ import annotations

import itertools
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from drc.configs import paper, smoke
from drc.data import make_sprites
from drc.train import PersistentChains, batch_indices, fit

from reprokit.config import to_dict
from reprokit.errors import CheckpointError, DivergenceError
from reprokit.lifecycle import Interrupted
from reprokit.testing import run_python
from reprokit.torch_utils import Checkpointer

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


class StopAt:
    """A stand-in for the lifecycle session: a stop request honoured after iteration `n`."""

    def __init__(self, n: int) -> None:
        self.n = n

    def boundary(self, where: str, save) -> None:
        if where.endswith(f" step {self.n}"):
            save()
            raise Interrupted(where, signal.SIGTERM)


def test_resume_matches_uninterrupted(tmp_path) -> None:
    cfg = smoke()
    cfg.train.iters, cfg.train.ckpt_every = 5, 2
    x = make_sprites(12, 16, 2, seed=0)["x"]
    full = fit(cfg, x, seed=3, ckpt=Checkpointer(tmp_path / "a", 2, config=to_dict(cfg)))
    with pytest.raises(Interrupted):
        fit(
            cfg,
            x,
            seed=3,
            ckpt=Checkpointer(tmp_path / "b", 2, config=to_dict(cfg)),
            session=StopAt(3),
        )
    ckpt = Checkpointer(tmp_path / "b", 2, config=to_dict(cfg))
    assert ckpt.latest()["step"] == 3  # the stop wrote a checkpoint off the every-2 schedule
    resumed = fit(cfg, x, seed=3, ckpt=ckpt)
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)
    assert torch.equal(full.chains.post, resumed.chains.post)
    assert full.history == resumed.history


def test_checkpoint_of_another_config_is_refused(tmp_path) -> None:
    cfg = smoke()
    x = make_sprites(12, 16, 2, seed=0)["x"]
    fit(cfg, x, seed=0, ckpt=Checkpointer(tmp_path, 2, config=to_dict(cfg)))
    cfg.train.iters = 7
    with pytest.raises(CheckpointError, match=r"differs in train\.iters 3 vs 7"):
        fit(cfg, x, seed=0, ckpt=Checkpointer(tmp_path, 2, config=to_dict(cfg)))


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
    assert list((tmp_path / "checkpoints").glob("ckpt_*.pt"))


def test_nan_loss_stops_with_a_message(tmp_path, monkeypatch) -> None:
    import drc.train as train_mod

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
    ckpt = Checkpointer(tmp_path, 1, config=to_dict(cfg))
    with pytest.raises(DivergenceError, match=r"iteration 3: .*ckpt_000000002.pt \(iteration 2\)"):
        fit(cfg, x, seed=0, ckpt=ckpt)
    assert ckpt.latest()["step"] == 2  # the last good checkpoint is kept
