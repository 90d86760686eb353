"""Data, model construction and the learning loop (single process or torchrun/DDP).

Single process (what ``reproduce`` calls): ``train_latent_ebm(cfg, "damc", seed, x_train, ...)``.
Multi-process: ``torchrun --nproc_per_node N -m damc.train --profile paper --data.path DIR``
(gloo on CPU, NCCL on GPU via reprokit.distributed); every rank draws its own batches and chain
noise, gradients of G, E and q_φ are all-reduced by DDP, rank 0 logs and checkpoints.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from damc.configs import PROFILES, Config
from damc.damc import Learner, Sampler, build_learner, train_step
from damc.diffusion import ConvEncoder, DiffusionAmortizer, MLPEncoder
from damc.model import ConvGenerator, EnergyPrior, MLPGenerator


@dataclass
class Data:
    """Training images, normal test images and (digits) the anomaly test set."""

    x_train: torch.Tensor  # (N, C, H, W) in [-1, 1]
    x_test: torch.Tensor  # normal test images
    x_anomaly_test: torch.Tensor | None = None  # every test image
    is_anomaly: np.ndarray | None = None  # (N_test,) bool, held-out class
    heldout: int | None = None
    y_test: np.ndarray | None = None  # (digits) labels of x_test


def load_data(cfg: Config, seed: int) -> Data:
    """Digits with class ``heldout_classes[seed % len]`` held out, or an image folder."""
    dc = cfg.data
    if dc.dataset == "digits":
        from reprokit.datasets import load_digits

        x_tr, y_tr = load_digits(dc.size, "train")
        x_te, y_te = load_digits(dc.size, "test")
        held = dc.heldout_classes[seed % len(dc.heldout_classes)] if dc.heldout_classes else None
        keep_tr = y_tr != held if held is not None else np.ones(len(y_tr), bool)
        is_anom = y_te == held if held is not None else np.zeros(len(y_te), bool)
        return Data(
            x_train=torch.from_numpy(x_tr[keep_tr]),
            x_test=torch.from_numpy(x_te[~is_anom]),
            x_anomaly_test=torch.from_numpy(x_te) if held is not None else None,
            is_anomaly=is_anom if held is not None else None,
            heldout=held,
            y_test=y_te[~is_anom],
        )
    from reprokit.datasets import DatasetError, load_image_folder

    if dc.path is None:
        raise DatasetError("data.path: dataset=image_folder needs --data.path DIR (a folder)")
    images, _ = load_image_folder(dc.path, size=dc.size)
    perm = np.random.default_rng(0).permutation(len(images))
    n_test = max(1, round(dc.test_fraction * len(images)))
    x = torch.from_numpy(np.ascontiguousarray(images[perm]))
    return Data(x_train=x[n_test:], x_test=x[:n_test])


def build_models(cfg: Config, x_shape: tuple[int, ...], sampler: Sampler):
    """G, E and (DAMC) q_φ: MLPs for digits, the official conv nets for image folders."""
    mc, qc = cfg.model, cfg.diffusion
    if cfg.data.dataset == "digits":
        G = MLPGenerator(mc.nz, x_shape, mc.g_hidden)
        encoder = MLPEncoder(math.prod(x_shape), qc.nxemb, qc.enc_hidden)
    else:
        G = ConvGenerator(mc.nz, mc.ngf, x_shape[0], x_shape[-1])
        encoder = ConvEncoder(x_shape[0], qc.nxemb, qc.nif, x_shape[-1])
    E = EnergyPrior(mc.nz, mc.e_hidden)
    Q = None
    if sampler == "damc":
        Q = DiffusionAmortizer(
            encoder,
            nz=mc.nz,
            nxemb=qc.nxemb,
            ntemb=qc.ntemb,
            hidden=qc.hidden,
            residual=qc.residual,
            n_steps=qc.n_steps,
            logsnr_min=qc.logsnr_min,
            logsnr_max=qc.logsnr_max,
            var_type=qc.var_type,
            sample_noise=qc.sample_noise,
        )
    return G, E, Q


def _state(learner: Learner, cfg: Config) -> dict:
    from reprokit.config import to_dict
    from reprokit.torch_utils import capture_rng_state

    return {
        "models": {k: m.state_dict() for k, m in learner.modules().items()},
        "optimizers": {k: o.state_dict() for k, o in learner.optimizers().items()},
        "iteration": learner.iteration,
        "sampler": learner.sampler,
        "config": to_dict(cfg),
        "rng": capture_rng_state(),
    }


def _restore(learner: Learner, state: dict) -> None:
    from reprokit.torch_utils import CheckpointError, restore_rng_state

    if state.get("sampler") != learner.sampler:
        raise CheckpointError(
            f"checkpoint is for sampler {state.get('sampler')!r}, not {learner.sampler!r}"
        )
    for k, m in learner.modules().items():
        m.load_state_dict(state["models"][k])
    for k, o in learner.optimizers().items():
        o.load_state_dict(state["optimizers"][k])
    learner.iteration = int(state["iteration"])
    restore_rng_state(state["rng"])


def train_latent_ebm(
    cfg: Config,
    sampler: Sampler,
    seed: int,
    x_train: torch.Tensor,
    device: torch.device,
    ckpt_dir: Path | None = None,
    log: Callable[..., None] | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> Learner:
    """Learn p_α(z) p_β(x|z) with DAMC or LEBM chains; resumable from ``ckpt_dir``."""
    from reprokit.torch_utils import Checkpointer, check_finite

    torch.manual_seed(seed)  # identical initial weights on every rank
    G, E, Q = build_models(cfg, tuple(x_train.shape[1:]), sampler)
    G, E = G.to(device), E.to(device)
    Q = Q.to(device) if Q is not None else None
    wrap = (lambda m: m) if world_size == 1 else _ddp_wrap
    learner = build_learner(cfg, sampler, G, E, Q, wrap)
    torch.manual_seed(seed * 1000 + rank)  # per-rank chain noise
    ckpt = None
    if ckpt_dir is not None:
        every = cfg.train.ckpt_every or cfg.train.iterations
        ckpt = Checkpointer(ckpt_dir, every=every, keep=1, enabled=rank == 0)
        state = ckpt.latest() if cfg.train.resume else None
        if state is not None:
            _restore(learner, state)
    x_train = x_train.to(device)
    n, B = len(x_train), min(cfg.train.batch_size, len(x_train))
    t0 = time.perf_counter()
    while learner.iteration < cfg.train.iterations:
        it = learner.iteration
        gen = torch.Generator().manual_seed((seed * 1_000_003 + rank * 7919 + it) % 2**62)
        x = x_train[torch.randperm(n, generator=gen)[:B].to(device)]
        losses = train_step(learner, x, cfg)
        check_finite(losses, it, f"{sampler} losses")
        if log is not None and (it % cfg.train.log_every == 0 or it + 1 == cfg.train.iterations):
            log(it, **losses, sec=time.perf_counter() - t0)
        if ckpt is not None and (ckpt.due(it + 1) or it + 1 == cfg.train.iterations):
            ckpt.save(it + 1, _state(learner, cfg))
    return learner


def _ddp_wrap(module: torch.nn.Module) -> torch.nn.Module:
    from reprokit.distributed import wrap_model

    return wrap_model(module)


def main(argv: list[str] | None = None) -> int:
    """torchrun entry: train ``cfg.methods`` for ``cfg.seeds[0]`` with DDP; rank 0 reports MSE."""
    from reprokit.config import parse
    from reprokit.datasets import DatasetError
    from reprokit.distributed import cleanup, init_distributed, is_main
    from reprokit.torch_utils import CheckpointError, DivergenceError

    profile, cfg = parse(PROFILES, argv, prog="damc.train")
    info = init_distributed()
    try:
        from damc.evaluate import recon_mse

        seed = cfg.seeds[0]
        data = load_data(cfg, seed)
        out = cfg.out or Path("runs") / "damc" / profile / "train"
        for method in cfg.methods:

            def log(step: int, method: str = method, **kw: float) -> None:
                if is_main():
                    print(
                        f"[{method}] it {step} " + " ".join(f"{k} {v:.4g}" for k, v in kw.items())
                    )

            learner = train_latent_ebm(
                cfg,
                method,
                seed,
                data.x_train,
                info.device,
                ckpt_dir=Path(out) / f"{method}-seed{seed}",
                log=log,
                rank=info.rank,
                world_size=info.world_size,
            )
            if is_main():
                mse = recon_mse(learner, data.x_test.to(info.device), cfg)
                print(f"[{method}] test recon MSE {mse:.5f}")
    except (DatasetError, CheckpointError, DivergenceError) as e:
        print(f"damc.train: error: {e}", file=sys.stderr)
        return 1
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
