"""Training: LPT by posterior-Langevin MLE (Eq. 5-6) and the same-backbone baselines.

One iteration of LPT (official ``infer_z`` + ``LPT.forward``):
  1. draw B whole trajectories (∝ length), read their persistent chains z0 from the buffer;
  2. N posterior Langevin steps on z0 (Eq. 5), written back to the buffer;
  3. one AdamW step on  mean_masked(â − a)² + λ mean(r_γ(U_α(z0)) − y)²  at the sampled z0.
DT-final-return and BC take step 3 alone (action loss only). AdamW, linear warm-up then linear
decay, gradient clipping. Under ``torchrun`` the model is wrapped in DistributedDataParallel
(``reprokit.distributed``; gloo on CPU, NCCL on GPU), each rank draws its own batch and the
buffer updates of all ranks are gathered so every rank holds the same chains; rank 0 logs and
checkpoints. Per-step randomness is derived from (seed, rank, step), so a resumed run draws the
same batches and Langevin noise as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from lpt.configs import Config, ModelCfg, TrainCfg
from lpt.data import Trajectories
from lpt.langevin import LatentBuffer, posterior_langevin
from lpt.model import LPT, BehaviourCloning, DecisionTransformer, SequencePolicy
from reprokit.distributed import DistInfo, wrap_model
from reprokit.torch_utils import (
    capture_rng_state,
    check_finite,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)


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
    if method in ("lpt", "lpt_no_unet"):
        if (m.n_latent * m.h) % 2 ** (len(m.unet_mults) - 1):
            raise ValueError("n_latent * h must be divisible by 2^(len(unet_mults) - 1)")
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


def train(
    method: str,
    cfg: Config,
    data: Trajectories,
    seed: int,
    device: torch.device,
    run=None,
    ckpt: Path | None = None,
    info: DistInfo | None = None,
) -> TrainResult:
    """Train one method for cfg.train.steps; resume from ``ckpt`` when cfg.train.resume."""
    t = cfg.train
    torch.manual_seed(seed)
    model = build_model(method, cfg.model, data.obs_dim, data.act_dim, data.discrete).to(device)
    n_steps = total_steps(t, data.n, info)
    is_lpt = isinstance(model, LPT)
    buffer = LatentBuffer(data.n, cfg.model.n_latent, cfg.model.h, seed, device) if is_lpt else None
    opt = torch.optim.AdamW(model.parameters(), lr=t.lr, weight_decay=t.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(n_steps, t.warmup_frac))
    history: dict[str, list[float]] = {"step": []}
    start = 0
    if t.resume and ckpt is not None and ckpt.exists():
        state = load_checkpoint(ckpt)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if buffer is not None:
            buffer.z0 = state["z0_buffer"].to(device)
        history = {k: list(v) for k, v in state["history"].items()}
        start = int(state["step"])
        restore_rng_state(state["rng"])
    rank = info.rank if info is not None else 0
    multi = info is not None and info.world_size > 1
    ddp_model: nn.Module = wrap_model(model, info) if multi else model
    L = cfg.langevin

    def save(step: int) -> None:
        if ckpt is None or rank != 0:
            return
        save_checkpoint(
            ckpt,
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "step": step,
                "method": method,
                "z0_buffer": buffer.z0.cpu() if buffer is not None else torch.empty(0),
                "history": history,
                "rng": capture_rng_state(),
            },
        )

    model.train()
    t0 = time.perf_counter()
    for step in range(start, n_steps):
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
            )
            _gather_buffer_update(buffer, batch["idx"], z0)
        losses = ddp_model(batch, z0)
        loss = lpt_loss(losses, t.reward_weight)
        check_finite(loss.item(), step)
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
            if run is not None and rank == 0:
                run.log(step, {f"{method}/{k}": v for k, v in vals.items()})
        if t.ckpt_every and (step + 1) % t.ckpt_every == 0:
            save(step + 1)
    elapsed = time.perf_counter() - t0
    save(n_steps)
    model.eval()
    done = n_steps - start
    return TrainResult(model, buffer, history, done / elapsed if done else 0.0)
