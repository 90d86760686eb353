"""Training loop: losses fall, exact resume, the paper profile's two steps, 2-process DDP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from lpt.configs import Config, paper, smoke
from lpt.data import to_trajectories
from lpt.train import Hooks, build_model, train

from reprokit.errors import CheckpointError, DivergenceError
from reprokit.testing import run_python

SRC = Path(__file__).resolve().parents[1] / "src"


def synthetic(n_traj: int = 6, T: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    N = n_traj * T
    obs = rng.normal(size=(N, 4)).astype(np.float32)
    arrays = {
        "observations": obs,
        "actions": np.tanh(obs[:, :2] * 0.7),
        "rewards": rng.integers(0, 2, N).astype(np.float32),
        "terminals": np.zeros(N, bool),
        "timeouts": (np.arange(N) % T == T - 1),
    }
    return to_trajectories(arrays, scale=10.0)


def tiny_cfg(steps: int = 4) -> Config:
    cfg = smoke()
    cfg.train.steps, cfg.train.log_every = steps, 1
    return cfg


@pytest.mark.parametrize("method", ["lpt", "lpt_no_unet", "dt", "bc"])
def test_training_reduces_action_loss(method):
    cfg = tiny_cfg(40)
    cfg.train.lr = 3e-3
    res = train(method, cfg, synthetic(), seed=0, device=torch.device("cpu"))
    a = res.history[res.model.action_loss_name]
    assert np.mean(a[-5:]) < np.mean(a[:5])
    if method.startswith("lpt"):
        assert "return_mse" in res.history and res.buffer is not None


class _Stop(Exception):
    pass


def _stop_at(n: int):
    """A session boundary that saves and stops once step ``n`` is done (as on SIGTERM)."""

    def boundary(where: str, save) -> None:
        if where.endswith(f"step {n}"):
            save()
            raise _Stop(where)

    return boundary


def test_resume_equals_uninterrupted(tmp_path):
    """Stopped at a step boundary (checkpoint written), resumed: the same model and chains."""
    data = synthetic()
    cfg = tiny_cfg(5)
    cfg.train.ckpt_every = 2
    full = train("lpt", cfg, data, 0, torch.device("cpu"), ckpt_dir=tmp_path / "a")
    with pytest.raises(_Stop, match="at seed 0 lpt step 3"):
        train("lpt", cfg, data, 0, torch.device("cpu"), Hooks(boundary=_stop_at(3)), tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "b").iterdir())[-1] == "ckpt_000000003.pt"
    resumed = train("lpt", cfg, data, 0, torch.device("cpu"), ckpt_dir=tmp_path / "b")
    for (n, p), q in zip(
        full.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q), n
    assert torch.equal(full.buffer.z0, resumed.buffer.z0)
    assert resumed.history == full.history and resumed.iters_per_s > 0


def test_checkpoint_of_another_config_is_refused(tmp_path):
    """A checkpoint written with other settings (here fewer steps) is one CheckpointError."""
    data = synthetic()
    train("bc", tiny_cfg(2), data, 0, torch.device("cpu"), ckpt_dir=tmp_path)
    with pytest.raises(CheckpointError, match=r"differs in train\.steps 2 vs 3"):
        train("bc", tiny_cfg(3), data, 0, torch.device("cpu"), ckpt_dir=tmp_path)


def test_divergence_names_the_kept_checkpoint(tmp_path):
    cfg = tiny_cfg(30)
    cfg.train.lr, cfg.train.ckpt_every, cfg.train.warmup_frac = 1e30, 1, 0.0
    with pytest.raises(DivergenceError, match=r"last good checkpoint .*ckpt_0+"):
        train("lpt", cfg, synthetic(), 0, torch.device("cpu"), ckpt_dir=tmp_path)


def test_paper_profile_two_steps():
    cfg = paper()
    assert cfg.train.epochs == 2000 and cfg.train.batch_size == 500
    cfg.train.epochs, cfg.train.batch_size = 1, 3  # 6 trajectories: one epoch = 2 steps
    model = build_model("lpt", cfg.model, 4, 2)
    n_unet = sum(p.numel() for p in model.unet.parameters())
    assert model.n_latent * model.h == 512 and model.transformer.window == 32
    assert len(model.transformer.blocks) == 1 and model.transformer.blocks[0].n_head == 8
    assert 5e5 < n_unet < 5e6, n_unet  # Unet1D(dim=16, mults=(1,2,4,8))
    res = train("lpt", cfg, synthetic(T=20), seed=0, device=torch.device("cpu"))
    assert len(res.history["step"]) == 2 and np.isfinite(res.history["loss"]).all()


DDP_SCRIPT = """
import sys, torch
sys.path.insert(0, {tests!r})
from reprokit.distributed import init_distributed, cleanup
from test_train import synthetic, tiny_cfg
from lpt.train import train
info = init_distributed(device="cpu")
res = train("lpt", tiny_cfg(3), synthetic(), 0, torch.device("cpu"), info=info)
torch.save({{"z0": res.buffer.z0, "w": res.model.action_head.weight.detach()}},
           {out!r} + f"/rank{{info.rank}}.pt")
cleanup()
"""


def test_ddp_two_gloo_processes(tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT.format(tests=str(Path(__file__).parent), out=str(tmp_path)))
    r = run_python(
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(script),
        src=SRC,
        timeout=170,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    a, b = (torch.load(tmp_path / f"rank{i}.pt") for i in (0, 1))
    assert torch.equal(a["w"], b["w"]) and torch.equal(a["z0"], b["z0"])
