"""Training: LPT by posterior-Langevin MLE (Eq. 5-6) and the same-backbone baselines.

One iteration of LPT (official ``infer_z`` + ``LPT.forward``):
  1. draw B whole trajectories (∝ length), read their persistent chains z0 from the buffer;
  2. N posterior Langevin steps on z0 (Eq. 5), written back to the buffer;
  3. one AdamW step on  mean_masked(â − a)² + λ mean(r_γ(U_α(z0)) − y)²  at the sampled z0.
DT-final-return and BC take step 3 alone (action loss only). AdamW, linear warm-up then linear
decay, gradient clipping. Under ``torchrun`` the model is wrapped in DistributedDataParallel
(``reprokit.distributed``; gloo on CPU, NCCL on GPU), each rank draws its own batch and the
buffer updates of all ranks are gathered so every rank holds the same chains; rank 0 logs and
checkpoints. Per-step randomness is derived from (seed, rank, step) and checkpoints hold the torch
RNG state (dropout), so a resumed run draws the same batches, Langevin noise and dropout masks
as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from lpt.configs import Config, ModelCfg, TrainCfg
from lpt.data import Trajectories
from lpt.langevin import LatentBuffer, posterior_langevin
from lpt.model import LPT, BehaviourCloning, DecisionTransformer, SequencePolicy
from reprokit.config import to_dict
from reprokit.distributed import DistInfo, wrap_model
from reprokit.errors import DivergenceError, UserError
from reprokit.torch_utils import Checkpointer, capture_rng_state, check_finite


def build_model(
    method: str, m: ModelCfg, obs_dim: int, act_dim: int, discrete: bool = False
) -> SequencePolicy:
    """The four methods on one backbone (DT's window holds the same number of env steps)."""
    common = dict(
        obs_dim=obs_dim,
        act_dim=act_dim,
        h=m.h,
        n_layer=m.n_layer,
        n_head=m.n_head,
        dropout=m.dropout,
        discrete=discrete,
    )
    check_model(m)
    if method in ("lpt", "lpt_no_unet"):
        return LPT(
            **common,
            window=m.window,
            n_latent=m.n_latent,
            use_unet=method == "lpt",
            unet_dim=m.unet_dim,
            unet_mults=m.unet_mults,
            unet_attn_heads=m.unet_attn_heads,
            unet_attn_dim_head=m.unet_attn_dim_head,
        )
    if method == "dt":
        return DecisionTransformer(**common, window=m.window * 3 // 2)
    if method == "bc":
        return BehaviourCloning(**common, window=m.window, cross=False)
    raise ValueError(f"unknown method {method!r}")


def check_model(m: ModelCfg) -> None:
    """Sizes that must agree (checked before training): one-line UserError."""
    if m.h % m.n_head:
        raise UserError(f"model.h {m.h} is not divisible by model.n_head {m.n_head}")
    if (m.n_latent * m.h) % 2 ** (len(m.unet_mults) - 1):
        raise UserError(
            f"model.n_latent * model.h = {m.n_latent * m.h} must be divisible by "
            f"2^(len(model.unet_mults) - 1) = {2 ** (len(m.unet_mults) - 1)}"
        )


def total_steps(t: TrainCfg, n_traj: int, info: DistInfo | None = None) -> int:
    """``t.steps``, or the official epochs: one epoch = ceil(n_traj / global batch) steps."""
    if t.epochs is None:
        return t.steps
    world = info.world_size if info is not None else 1
    return t.epochs * math.ceil(n_traj / (t.batch_size * world))


def lpt_loss(losses: dict[str, torch.Tensor], reward_weight: float) -> torch.Tensor:
    """The learning step as a loss: action loss (MSE or CE) + λ return MSE (baselines: action
    loss only)."""
    action = sum(v for k, v in losses.items() if k.startswith("action_"))
    return action + reward_weight * losses.get("return_mse", 0.0)


def lr_lambda(steps: int, warmup_frac: float):
    warm = max(1, int(warmup_frac * steps))
    return lambda i: (i + 1) / warm if i < warm else max(0.0, (steps - i) / max(1, steps - warm))


@dataclass
class TrainResult:
    model: SequencePolicy
    buffer: LatentBuffer | None
    history: dict[str, list[float]] = field(default_factory=dict)
    iters_per_s: float = 0.0


def _gather_buffer_update(buffer: LatentBuffer, idx: torch.Tensor, z0: torch.Tensor) -> None:
    """Write every rank's (ids, z0) into every rank's buffer."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        n = dist.get_world_size()
        ids, zs = (
            [torch.empty_like(idx) for _ in range(n)],
            [torch.empty_like(z0) for _ in range(n)],
        )
        dist.all_gather(ids, idx)
        dist.all_gather(zs, z0.contiguous())
        idx, z0 = torch.cat(ids), torch.cat(zs)
    buffer.set(idx, z0)


@dataclass
class Hooks:
    """What the session gives one training loop: the log, a progress bar and the step boundary."""

    log: Callable[[int, dict[str, float]], None] | None = None
    progress: Callable[..., Iterable[int]] | None = None
    boundary: Callable[[str, Callable[[], Any]], None] | None = None


def train(
    method: str,
    cfg: Config,
    data: Trajectories,
    seed: int,
    device: torch.device,
    hooks: Hooks | None = None,
    ckpt_dir: Path | None = None,
    info: DistInfo | None = None,
) -> TrainResult:
    """Train one method for cfg.train.steps, resuming from the newest checkpoint in ``ckpt_dir``.

    Checkpoints (model, optimizer, scheduler, latent buffer, history, RNG state, training time)
    go to ``ckpt_dir`` every ``cfg.train.ckpt_every`` steps, at the end, and when the session's
    ``boundary`` honours a stop request; they carry the config's hash, so a checkpoint of another
    config (another model size, fewer steps) is refused with one line. NaN/inf loss: one-line
    ``DivergenceError`` naming the last good checkpoint.
    """
    t, hooks = cfg.train, hooks or Hooks()
    torch.manual_seed(seed)
    model = build_model(method, cfg.model, data.obs_dim, data.act_dim, data.discrete).to(device)
    n_steps = total_steps(t, data.n, info)
    is_lpt = isinstance(model, LPT)
    buffer = LatentBuffer(data.n, cfg.model.n_latent, cfg.model.h, seed, device) if is_lpt else None
    opt = torch.optim.AdamW(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(n_steps, t.warmup_frac))
    rank = info.rank if info is not None else 0
    ckpt = _checkpointer(cfg, ckpt_dir, n_steps, rank)
    history: dict[str, list[float]] = {"step": []}
    start, trained_s = 0, 0.0
    if ckpt is not None and ckpt.resume(model, opt):
        state = ckpt.state
        sched.load_state_dict(state["scheduler"])
        if buffer is not None:
            buffer.z0 = state["z0_buffer"].to(device)
        history = {k: list(v) for k, v in state["history"].items()}
        start, trained_s = int(state["step"]), float(state["train_time_s"])
    multi = info is not None and info.world_size > 1
    ddp_model: nn.Module = wrap_model(model, info) if multi else model
    L = cfg.langevin
    t0 = time.perf_counter()

    def save(step: int) -> None:
        if ckpt is None:
            return
        ckpt.save(
            step,
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "method": method,
                "z0_buffer": buffer.z0.cpu() if buffer is not None else torch.empty(0),
                "history": history,
                "rng": capture_rng_state(),
                "train_time_s": trained_s + time.perf_counter() - t0,
            },
        )

    model.train()
    steps = range(start, n_steps)
    bar = hooks.progress(steps, desc=f"seed {seed} {method}") if hooks.progress else steps
    for step in bar:
        rng = np.random.default_rng([seed, rank, step])
        batch = data.batch(data.sample(rng, t.batch_size), device)
        z0 = None
        if is_lpt:
            g = torch.Generator().manual_seed(int(rng.integers(2**62)))
            z0 = posterior_langevin(
                model,
                buffer.get(batch["idx"]),
                batch,
                L.n_train,
                L.step_size,
                L.sigma_a2,
                L.sigma_y2,
                generator=g,
                ce_weight=L.ce_weight,
            )
            _gather_buffer_update(buffer, batch["idx"], z0)
        losses = ddp_model(batch, z0)
        loss = lpt_loss(losses, t.reward_weight)
        _check_finite(loss, step, method, seed, ckpt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
        opt.step()
        sched.step()
        if step % t.log_every == 0 or step == n_steps - 1:
            vals = {k: float(v.detach()) for k, v in losses.items()} | {
                "loss": float(loss.detach())
            }
            history["step"].append(step)
            for k, v in vals.items():
                history.setdefault(k, []).append(v)
            if hooks.log is not None and rank == 0:
                hooks.log(step, {f"{method}/{k}": v for k, v in vals.items()})
        if ckpt is not None and ckpt.due(step + 1) and step + 1 < n_steps:
            save(step + 1)
        if hooks.boundary is not None and step + 1 < n_steps:
            hooks.boundary(f"at seed {seed} {method} step {step + 1}", partial(save, step + 1))
    if start < n_steps:
        save(n_steps)
    trained_s += time.perf_counter() - t0 if start < n_steps else 0.0
    model.eval()
    return TrainResult(model, buffer, history, n_steps / trained_s if trained_s > 0 else 0.0)


def _checkpointer(
    cfg: Config, ckpt_dir: Path | None, n_steps: int, rank: int
) -> Checkpointer | None:
    """Checkpoints every ``train.ckpt_every`` steps (0: at the end only) into ``ckpt_dir``; all
    ranks read them, rank 0 writes them."""
    if ckpt_dir is None:
        return None
    every = cfg.train.ckpt_every or n_steps
    return Checkpointer(ckpt_dir, every=every, enabled=rank == 0, config=to_dict(cfg))


def _check_finite(
    loss: torch.Tensor, step: int, method: str, seed: int, ckpt: Checkpointer | None
) -> None:
    """NaN/inf loss: a one-line DivergenceError naming the method, seed and kept checkpoint."""
    try:
        check_finite(loss.item(), step)
    except DivergenceError as e:
        files = sorted(ckpt.dir.glob("ckpt_*.pt")) if ckpt is not None else []
        kept = f"last good checkpoint {files[-1]}" if files else "no checkpoint written yet"
        raise DivergenceError(f"{method} seed {seed}: {e}; {kept}") from None
