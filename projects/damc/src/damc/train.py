"""Data, model construction and the learning loop (single process or torchrun/DDP).

Single process (what ``reproduce`` calls): ``train_latent_ebm(cfg, "damc", seed, x_train, ...)``.
Multi-process: ``torchrun --nproc_per_node N -m damc.train --profile paper --data.path DIR``
(gloo on CPU, NCCL on GPU via reprokit.distributed); every rank draws its own batches and chain
noise, gradients of G, E and q_φ are all-reduced by DDP, rank 0 logs and checkpoints.
"""

from __future__ import annotations

import math
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from damc.configs import PROFILES, Config
from damc.damc import Learner, Sampler, build_learner, train_step
from damc.diffusion import ConvEncoder, DiffusionAmortizer, MLPEncoder
from damc.loop import Hooks, diverged
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
        raise DatasetError("--data.path: --data.dataset image_folder needs --data.path DIR")
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


def _state(learner: Learner) -> dict:
    from reprokit.torch_utils import capture_rng_state

    return {
        "models": {k: m.state_dict() for k, m in learner.modules().items()},
        "optimizers": {k: o.state_dict() for k, o in learner.optimizers().items()},
        "iteration": learner.iteration,
        "train_time_s": learner.train_time_s,
        "sampler": learner.sampler,
        "rng": capture_rng_state(),
    }


def _restore(learner: Learner, state: dict, path: Path) -> None:
    """Load a checkpoint into the learner; one that does not fit is a one-line CheckpointError."""
    from reprokit.torch_utils import CheckpointError, restore_rng_state

    if state.get("sampler") != learner.sampler:
        raise CheckpointError(
            f"checkpoint {path} is for sampler {state.get('sampler')!r}, not {learner.sampler!r}"
        )
    try:
        for k, m in learner.modules().items():
            m.load_state_dict(state["models"][k])
        for k, o in learner.optimizers().items():
            o.load_state_dict(state["optimizers"][k])
    except (RuntimeError, KeyError, ValueError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise CheckpointError(
            f"checkpoint {path} does not fit this model ({first[:160]}); rerun with --fresh"
        ) from None
    learner.iteration = int(state["iteration"])
    learner.train_time_s = float(state["train_time_s"])
    restore_rng_state(state["rng"])


def train_latent_ebm(
    cfg: Config,
    sampler: Sampler,
    seed: int,
    x_train: torch.Tensor,
    device: torch.device,
    ckpt_dir: Path | None = None,
    hooks: Hooks | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> Learner:
    """Learn p_α(z) p_β(x|z) with DAMC or LEBM chains; resumes from the checkpoints in
    ``ckpt_dir`` (written by this config only: another config's are refused)."""
    from reprokit.config import to_dict
    from reprokit.torch_utils import Checkpointer, all_finite

    torch.manual_seed(seed)  # identical initial weights on every rank
    G, E, Q = build_models(cfg, tuple(x_train.shape[1:]), sampler)
    G, E = G.to(device), E.to(device)
    Q = Q.to(device) if Q is not None else None
    wrap = (lambda m: m) if world_size == 1 else _ddp_wrap
    learner = build_learner(cfg, sampler, G, E, Q, wrap)
    torch.manual_seed(seed * 1000 + rank)  # per-rank chain noise
    hooks, ckpt, kept = hooks or Hooks(), None, None
    if ckpt_dir is not None:
        every = cfg.train.ckpt_every or cfg.train.iterations
        ckpt = Checkpointer(ckpt_dir, every=every, enabled=rank == 0, config=to_dict(cfg))
        if (state := ckpt.latest()) is not None:
            kept = ckpt.path(int(state["step"]))
            _restore(learner, state, kept)
    x_train = x_train.to(device)
    n, B = len(x_train), min(cfg.train.batch_size, len(x_train))
    last = learner.iteration

    def save() -> None:
        if ckpt is not None:
            ckpt.save(learner.iteration, _state(learner))

    for it in hooks.steps(learner.iteration, cfg.train.iterations, f"{sampler} seed {seed}"):
        t0 = time.perf_counter()
        gen = torch.Generator().manual_seed((seed * 1_000_003 + rank * 7919 + it) % 2**62)
        x = x_train[torch.randperm(n, generator=gen)[:B].to(device)]
        losses = train_step(learner, x, cfg)
        if not all_finite(losses):
            raise diverged(f"{sampler} losses", it + 1, kept, last)
        learner.train_time_s += time.perf_counter() - t0
        if hooks.log is not None and (
            it % cfg.train.log_every == 0 or it + 1 == cfg.train.iterations
        ):
            hooks.log(it, **losses)
        if ckpt is not None and (ckpt.due(it + 1) or it + 1 == cfg.train.iterations):
            save()
            kept, last = ckpt.path(it + 1), it + 1
        hooks.at_boundary(f"at {sampler} seed {seed} iteration {it + 1}", save)
    return learner


def _ddp_wrap(module: torch.nn.Module) -> torch.nn.Module:
    from reprokit.distributed import wrap_model

    return wrap_model(module)


IMAGE_FOLDER_SIZES = (32, 64)  # the official conv G / encoder (ConvGenerator, ConvEncoder)


def _check_sizes(cfg: Config) -> None:
    """Image size vs the networks, distinct seeds and methods (one unit each)."""
    from reprokit.datasets import DIGITS_SIZES
    from reprokit.errors import UserError

    dc = cfg.data
    sizes = DIGITS_SIZES if dc.dataset == "digits" else IMAGE_FOLDER_SIZES
    if dc.size not in sizes:
        nets = "digits come" if dc.dataset == "digits" else "the image-folder conv nets work"
        raise UserError(f"--data.size {dc.size}: {nets} in sizes {sizes} only")
    for name, values in (
        ("seeds", cfg.seeds),
        ("methods", cfg.methods),
        ("toy.seeds", cfg.toy.seeds),
        ("anomaly.classes", cfg.anomaly.classes),
    ):
        if len(set(values)) != len(values):
            raise UserError(f"--{name}: {list(values)} repeats a value")
    if cfg.anomaly.enabled and (cfg.toy.enabled or cfg.digits or dc.dataset != "digits"):
        raise UserError(
            "--anomaly.enabled: the anomaly experiment runs alone on digits "
            "(--profile cpu-anomaly; toy.enabled, digits false)"
        )
    if cfg.anomaly.enabled and not cfg.anomaly.classes:
        raise UserError("--anomaly.classes: give at least one held-out class")


def _check_inception(cfg: Config) -> None:
    """The Inception weights of the real FID: only for image folders, and the right file."""
    from reprokit.errors import UserError
    from reprokit.inception import FID_WEIGHTS_SHA256
    from reprokit.lifecycle import check_file

    if cfg.eval.inception_path is None:
        return
    if cfg.data.dataset != "image_folder":
        raise UserError("--eval.inception_path: only used with --data.dataset image_folder")
    check_file(cfg.eval.inception_path, "--eval.inception_path", sha256=FID_WEIGHTS_SHA256)


def preflight(cfg: Config) -> tuple[torch.device, Data]:
    """Every check before the first training step (one-line UserError): device, sizes, weights,
    the data of the first seed (path and format) and that G's images have the data's shape."""
    from reprokit.errors import UserError
    from reprokit.lifecycle import check_device

    device = torch.device(check_device(cfg.device))
    _check_sizes(cfg)
    _check_inception(cfg)
    data = load_data(cfg, cfg.seeds[0])
    if len(data.x_train) < 2:
        raise UserError(f"--data.path {cfg.data.path}: {len(data.x_train)} training images")
    shape = tuple(data.x_train.shape[1:])
    G, _, _ = build_models(cfg, shape, "lebm")
    with torch.no_grad():
        out = tuple(G(torch.zeros(1, cfg.model.nz)).shape[1:])
    if out != shape:
        raise UserError(f"the generator makes images of shape {out}, the data has {shape}")
    return device, data


def _stop_boundary(where: str, save: Callable[[], object]) -> None:
    """``damc.train``'s step boundary (no Session: every DDP rank checks its own stop flag)."""
    from reprokit.lifecycle import Interrupted, stop_requested

    if stop_requested():
        save()
        raise Interrupted(where, signal.SIGTERM)  # torchrun forwards SIGTERM to its workers


def run(argv: list[str], fresh: bool) -> None:
    """torchrun entry: train ``cfg.methods`` for ``cfg.seeds[0]`` with DDP; rank 0 reports MSE.

    Checkpoints go to ``--out`` or ``<runs root>/damc/<profile>/train-<config hash>/``; a
    rerun of the same command resumes there, ``--fresh`` starts over.
    """
    from damc.evaluate import recon_mse
    from reprokit.config import parse
    from reprokit.distributed import barrier, cleanup, init_distributed, is_main
    from reprokit.lifecycle import config_hash
    from reprokit.runlog import runs_root

    profile, cfg = parse(PROFILES, argv, prog="damc.train")
    device, data = preflight(cfg)
    info = init_distributed(device="cpu" if device.type == "cpu" else None)
    out = Path(cfg.out or runs_root() / "damc" / profile / f"train-{config_hash(cfg)[:12]}")
    seed = cfg.seeds[0]
    try:
        if fresh and is_main():  # only this run's checkpoint folders, never the rest of --out
            for method in cfg.methods:
                shutil.rmtree(out / f"{method}-seed{seed}", ignore_errors=True)
        barrier()
        for method in cfg.methods:

            def log(step: int, method: str = method, **kw: float) -> None:
                print(f"[{method}] it {step} " + " ".join(f"{k} {v:.4g}" for k, v in kw.items()))

            hooks = Hooks(log=log if is_main() else None, boundary=_stop_boundary)
            learner = train_latent_ebm(
                cfg,
                method,
                seed,
                data.x_train,
                info.device,
                ckpt_dir=out / f"{method}-seed{seed}",
                hooks=hooks,
                rank=info.rank,
                world_size=info.world_size,
            )
            if is_main():
                mse = recon_mse(learner, data.x_test.to(info.device), cfg)
                print(f"[{method}] test recon MSE {mse:.5f}; checkpoints in {out}")
    finally:
        cleanup()


if __name__ == "__main__":
    from reprokit.lifecycle import entry

    entry("damc.train", run)
