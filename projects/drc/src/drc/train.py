"""DRC learning: alternating posterior/prior Langevin (E-step) and generator/EBM updates (M-step).

One iteration on a batch of images x with indices idx (official `EABPModel.learn`):
  1. z+ <- K1 posterior Langevin steps from the persistent chain z_post[idx]      (E-step)
  2. z- <- K0 prior Langevin steps from the persistent chain z_prior[idx]
  3. generator step on  -mean Q + tv TV + ce (H_f + H_b) + orth R     at z+      (M-step)
  4. EBM step on        mean E(z+) - mean E(z-)
Runs as one process or under `torchrun` (DistributedDataParallel over reprokit.distributed):
every rank draws its batches from its own shard of the images and owns their chains.

    torchrun --nproc_per_node 2 -m drc.train --profile smoke --out /tmp/drc_ddp
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from drc.configs import DRCConfig
from drc.ebm import LatentEBM
from drc.langevin import sample_posterior, sample_prior
from drc.model import DRC
from drc.objectives import ebm_loss, generator_loss
from torch import nn

from reprokit.distributed import (
    all_reduce_mean,
    barrier,
    cleanup,
    init_distributed,
    is_main,
    wrap_model,
)
from reprokit.errors import DivergenceError
from reprokit.lifecycle import Session
from reprokit.runlog import Run
from reprokit.torch_utils import Checkpointer, capture_rng_state


class PersistentChains(nn.Module):
    """One posterior and one prior latent chain per training image, initialised from N(0, I)."""

    def __init__(self, N: int, D: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.register_buffer("post", torch.randn(N, D, generator=generator))
        self.register_buffer("prior", torch.randn(N, D, generator=generator))

    def sync(self, owned: torch.Tensor) -> None:
        """Under DDP, gather every rank's chains (rank r owns the indices where owned is True)."""
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            for buf in (self.post, self.prior):
                buf.mul_(owned[:, None].to(buf))
                dist.all_reduce(buf)


@dataclass
class Trained:
    """Everything a trained DRC run leaves behind."""

    model: DRC
    ebm: LatentEBM
    chains: PersistentChains
    iters_per_s: float
    history: list[dict[str, float]]


def resolve_device(name: str, local: torch.device | None = None) -> torch.device:
    """auto -> the distributed local device (or cuda if available, else cpu)."""
    if name != "auto":
        return torch.device(name)
    if local is not None:
        return local
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def build(cfg: DRCConfig, device: torch.device) -> tuple[DRC, LatentEBM]:
    """The generator side (fg, bg, warp nets) and the latent EBM."""
    model = DRC(cfg.model, cfg.data.image_size).to(device)
    ebm = LatentEBM(cfg.model, model.zs_dim).to(device)
    return model, ebm


def build_optimizers(
    cfg: DRCConfig, model: nn.Module, ebm: nn.Module
) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam(beta1=0.5) for the generators (lr) and for the EBM (ebm_lr_ratio * lr)."""
    t = cfg.train
    betas = (t.beta1, t.beta2)
    opt_G = torch.optim.Adam(model.parameters(), lr=t.lr, betas=betas)
    opt_E = torch.optim.Adam(ebm.parameters(), lr=t.lr * t.ebm_lr_ratio, betas=betas)
    return opt_G, opt_E


def batch_indices(
    own: torch.Tensor, B: int, seed: int, step: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and flips of step `step`: a pure function of (seed, step), so resuming is exact."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + step)
    pick = torch.randperm(len(own), generator=g)[: min(B, len(own))]
    return own[pick], torch.rand(len(pick), generator=g) < 0.5


def fit(
    cfg: DRCConfig,
    x_train: np.ndarray,
    seed: int,
    run: Run | None = None,
    device: torch.device | None = None,
    ckpt: Checkpointer | None = None,
    m_train: np.ndarray | None = None,
    session: Session | None = None,
) -> Trained:
    """Train DRC on x_train (N, 3, H, W) in [-1, 1]; the DDP path is taken under torchrun.

    With a Checkpointer, training resumes from its newest checkpoint (weights, chains, both
    optimizers, history, RNG state), saves every `ckpt.every` iterations and at the end. With a
    session (single process), a stop request is honoured after any iteration: checkpoint, then
    `Interrupted`. With ground-truth masks m_train (N, H, W), every log step also records the
    transductive IoU of this rank's persistent posterior chains (pi_f > 0.5), for monitoring only.
    """
    info = init_distributed()
    device = device or resolve_device(cfg.device, info.device)
    torch.manual_seed(seed * 7919 + info.rank)
    model, ebm = build(cfg, device)
    opt_G, opt_E = build_optimizers(cfg, model, ebm)
    N = len(x_train)
    chains = PersistentChains(N, model.z_dim, torch.Generator().manual_seed(seed)).to(device)
    own = torch.arange(info.rank, N, info.world_size)  # this rank's images (and chains)
    owned = torch.zeros(N, dtype=torch.bool)
    owned[own] = True
    X = torch.from_numpy(x_train).to(device)
    info = dataclasses.replace(info, device=device)  # wrap_model moves to info.device: ours wins
    nets = Nets(model, ebm, wrap_model(model, info), wrap_model(ebm, info), opt_G, opt_E)
    t = cfg.train
    parts = nn.ModuleDict({"model": model, "ebm": ebm, "chains": chains})
    start, history = resume(ckpt, parts, opt_G, opt_E)

    def checkpoint(step: int) -> None:
        chains.sync(owned)
        if ckpt is not None:
            state = {"model": parts.state_dict(), "opt_G": opt_G.state_dict()}
            state |= {"opt_E": opt_E.state_dict(), "history": history}
            ckpt.save(step, {**state, "rng": capture_rng_state()})

    t0 = time.perf_counter()
    with contextlib.closing(iterations(range(start, t.iters), run, seed)) as steps:
        for step in steps:
            idx, flip = batch_indices(own, t.batch_size, seed, step)
            x = X[idx]  # (B, 3, H, W)
            if cfg.data.flip:
                x = torch.where(flip.to(device)[:, None, None, None], x.flip(-1), x)
            loss_G, loss_E, terms = em_iteration(cfg, nets, chains, x, idx.to(device), step, ckpt)
            if (step + 1) % t.log_every == 0 or step + 1 == t.iters:
                rec = {"loss_G": loss_G, "loss_E": loss_E, **terms}
                if m_train is not None:
                    rec["iou_chains"] = chain_iou(
                        model, chains.post[own.to(device)], m_train[own.numpy()]
                    )
                rec = all_reduce_mean(rec)
                history.append({"step": step + 1, **rec})
                if run is not None and is_main():
                    run.log(step + 1, rec)
            if ckpt is not None and ckpt.due(step + 1) and step + 1 < t.iters:
                checkpoint(step + 1)
            if session is not None:
                where = f"at {'drc' if cfg.model.reassign else 'no_reassign'} seed {seed} step"
                session.boundary(f"{where} {step + 1}", lambda done=step + 1: checkpoint(done))
    elapsed = time.perf_counter() - t0
    if start < t.iters:
        checkpoint(t.iters)
    ips = (t.iters - start) / max(elapsed, 1e-9)
    return Trained(model, ebm, chains, ips, history)


@dataclass
class Nets:
    """The trained networks, their (possibly DDP-wrapped) forward views and their optimizers."""

    model: DRC
    ebm: LatentEBM
    gen: nn.Module  # model, or its DDP wrapper (the M-step's forward)
    ebm_d: nn.Module  # ebm, or its DDP wrapper
    opt_G: torch.optim.Optimizer
    opt_E: torch.optim.Optimizer


def em_iteration(
    cfg: DRCConfig,
    nets: Nets,
    chains: PersistentChains,
    x: torch.Tensor,
    idx: torch.Tensor,
    step: int,
    ckpt: Checkpointer | None,
) -> tuple[float, float, dict[str, float]]:
    """One DRC iteration on images x (B, 3, H, W), chain indices idx: (loss_G, loss_E, terms)."""
    lc, model, ebm = cfg.langevin, nets.model, nets.ebm
    # E-step: persistent posterior chains; prior chains for the EBM's negative samples.
    z_pos = sample_posterior(
        model, ebm, x, chains.post[idx], lc.K1, lc.delta_1, lc.sigma, cfg.loss.tv, lc.noise
    )
    z_neg = sample_prior(ebm, chains.prior[idx], lc.K0, lc.delta_0, lc.noise)
    chains.post[idx], chains.prior[idx] = z_pos, z_neg
    # M-step for the generators.
    r, f_logits, b_logits = nets.gen(z_pos, encode=cfg.loss.ce > 0)
    with torch.no_grad():
        zf_sym, zb_sym = ebm.symbol_logits(z_pos)
    loss_G, terms = generator_loss(
        r, x, f_logits, b_logits, zf_sym, zb_sym, (model.fg_net, model.bg_net), cfg.loss
    )
    check_loss(loss_G.item(), step, "generator loss", ckpt)  # before any parameter moves
    nets.opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    nets.opt_G.step()
    # EBM step: one forward over [z+, z-] (a single DDP forward per backward).
    E = nets.ebm_d(torch.cat([z_pos, z_neg]))
    loss_E = ebm_loss(E[: len(z_pos)], E[len(z_pos) :])
    check_loss(loss_E.item(), step, "EBM loss", ckpt)
    nets.opt_E.zero_grad(set_to_none=True)
    loss_E.backward()
    nets.opt_E.step()
    return loss_G.item(), loss_E.item(), terms


def iterations(steps: range, run: Run | None, seed: int) -> Iterator[int]:
    """The training iterations, with the shared progress bar on rank 0 (closed on any exit)."""
    if run is not None and is_main():
        yield from run.progress(steps, desc=f"train seed {seed}")
    else:
        yield from steps


def check_loss(value: float, step: int, name: str, ckpt: Checkpointer | None) -> None:
    """DivergenceError (one line) when a loss is NaN/inf, saying which checkpoint was kept."""
    if math.isfinite(value):
        return
    latest = ckpt.latest() if ckpt is not None else None
    kept = (
        f"the last good checkpoint {ckpt.path(latest['step'])} (iteration {latest['step']}) is kept"
        if ckpt is not None and latest is not None
        else "no checkpoint had been written yet (see --train.ckpt_every)"
    )
    raise DivergenceError(
        f"{name} is {value} at iteration {step + 1}: training diverged (a smaller --train.lr "
        f"may help); {kept}"
    )


def resume(
    ckpt: Checkpointer | None,
    parts: nn.Module,
    opt_G: torch.optim.Optimizer,
    opt_E: torch.optim.Optimizer,
) -> tuple[int, list[dict[str, float]]]:
    """Load the newest checkpoint (weights, chains, optimizers, RNG): (its step, its history)."""
    if ckpt is None:
        return 0, []
    start = ckpt.resume(parts)  # refuses another config or an unreadable file with one line
    if ckpt.state is None:
        return 0, []
    opt_G.load_state_dict(ckpt.state["opt_G"])
    opt_E.load_state_dict(ckpt.state["opt_E"])
    return start, list(ckpt.state["history"])


@torch.inference_mode()
def chain_iou(model: DRC, z: torch.Tensor, m: np.ndarray, batch: int = 256) -> float:
    """Mean IoU of pi_f(z) > 0.5 against masks m (N, H, W)."""
    from drc.evaluate import iou_dice

    pred = torch.cat(
        [model.render(z[i : i + batch]).pi_f[:, 0] > 0.5 for i in range(0, len(z), batch)]
    )
    return float(iou_dice(pred.cpu().numpy(), m)[0].mean())


def main(argv: list[str] | None = None) -> int:
    """`python -m drc.train` / `torchrun -m drc.train`: train seeds[0], report held-out IoU.

    The run folder is `--out`, else `<runs root>/drc/<profile>/train-<config hash>`; rerunning the
    same command continues from its checkpoints, `--fresh` starts over.
    """
    import shutil

    from drc.configs import PROFILES
    from drc.data import load_data
    from drc.evaluate import infer_test, iou_dice

    from reprokit.config import parse, to_dict
    from reprokit.lifecycle import config_hash
    from reprokit.runlog import runs_root

    args = list(sys.argv[1:] if argv is None else argv)
    fresh = "--fresh" in args
    args = [a for a in args if a != "--fresh"]
    profile, cfg = parse({k: f() for k, f in PROFILES.items()}, args, prog="drc.train")
    init_distributed()
    try:
        data = load_data(cfg)
        seed = cfg.seeds[0]
        name = f"train-{config_hash(cfg)[:12]}"
        folder = Path(cfg.out) if cfg.out else runs_root() / "drc" / profile / name
        if fresh and is_main():
            shutil.rmtree(folder / "checkpoints", ignore_errors=True)
        barrier()
        run = Run("drc", profile, cfg, seed=seed, folder=folder) if is_main() else None
        every = cfg.train.ckpt_every or cfg.train.iters
        ckpt = Checkpointer(folder / "checkpoints", every, config=to_dict(cfg), enabled=is_main())
        trained = fit(cfg, data["x_train"], seed, run, ckpt=ckpt)
        if is_main():
            device = next(trained.model.parameters()).device
            x_test = torch.from_numpy(data["x_test"]).to(device)
            _, rend = infer_test(
                trained.model, trained.ebm, x_test, cfg.langevin, cfg.loss, cfg.train.eval_batch
            )
            iou, dice = iou_dice(rend["pi_f"] > 0.5, data["m_test"])
            metrics = {
                "iou": float(iou.mean()),
                "dice": float(dice.mean()),
                "iters_per_s": trained.iters_per_s,
            }
            print(f"seed {seed}: held-out IoU {metrics['iou']:.3f} Dice {metrics['dice']:.3f}")
            if run is not None:
                run.finish(metrics)
        barrier()  # keep every rank alive until rank 0 has evaluated
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
