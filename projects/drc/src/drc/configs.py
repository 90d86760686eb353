"""Configurations of DRC: smoke, pilot, cpu, cpu-long and paper(-cub, -textured, -clevr).

smoke: `python -m drc.reproduce --profile smoke` (seconds; every code path, tiny sizes).
pilot: `python -m drc.reproduce --profile pilot`: one seed of DRC at the cpu-long budget.
cpu:   `python -m drc.reproduce --profile cpu` (OMP_NUM_THREADS=1; wall time in RESULTS.md):
       the mechanism tier (stripes background, one object, 16x16), 3 seeds, DRC vs the
       no-re-assignment ablation and the label-free baselines; the gates and the trend.
cpu-long: `python -m drc.reproduce --profile cpu-long`: `cpu` at 400k posterior image-steps per
       run (the budget that carries the central claim; results/cpu/long_metrics.json).
paper: `python -m drc.reproduce --profile paper --data.image_dir D --data.mask_dir M` (GPU): the
       official `config_gallery/*.yml` hyper-parameters (128x128, batch 48, K0=60, K1=40,
       delta_0=0.4, delta_1=0.1, sigma=0.25, lr 1e-4, EBM lr 2e-5, z_f=256, z_b=256, z_s=512,
       200 classes).
paper-cub: `paper` on a CUB root folder with the official crop and split (drc.cub; GPU).
paper-textured, paper-clevr: `textured.yml` and `clevr.yml` on the procedural generators (GPU).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reprokit.config import param


@dataclass
class DataConfig:
    """Where the images come from."""

    source: Literal["sprites", "clevr", "folder", "cub_all", "cub_split"] = param(
        "sprites",
        "TexSprites, CLEVR-like scenes, an image folder with masks, or a CUB root folder "
        "(image_dir) read by the official Birds protocol: cub_all / cub_split (drc.cub)",
    )
    tier: Literal["flat", "gradient", "stripes", "texsprites"] = param(
        "texsprites",
        "sprites: background family (flat/gradient/stripes: structured, disjoint palettes; "
        "texsprites: the hard tier, shared palette)",
    )
    image_size: int = param(32, "image side; must equal 4 * 2**(len(model.channels) - 1)", ge=8)
    n_train: int = param(256, "training images (sprites; each has persistent chains)", ge=1)
    n_test: int = param(
        100, "held-out images (sprites: generated; folder: the last n_test files)", ge=1
    )
    max_objects: int = param(3, "sprites: 1..max_objects shapes; clevr: 3..max_objects", ge=1, le=6)
    data_seed: int = param(
        1234, "TexSprites generator seed (the same data for every training seed)"
    )
    image_dir: str | None = param(None, "folder of images (source=folder)")
    mask_dir: str | None = param(
        None, "folder of ground-truth masks, same file stems (source=folder)"
    )
    flip: bool = param(False, "random horizontal flip during training (the official code flips)")


@dataclass
class ModelConfig:
    """Generators, warp net, pseudo-label encoders and the latent EBM."""

    zf_dim: int = param(32, "foreground latent dimension z_f", ge=1)
    zb_dim: int = param(4, "background latent dimension z_b (small: the fg/bg asymmetry)", ge=1)
    zs_dim: int = param(64, "warp (pixel re-assignment) latent dimension z_s", ge=1)
    channels: tuple[int, ...] = param(
        (32, 32, 16, 8), "decoder channels: 4x4 stem, then one UpBlock each", nonempty=True
    )
    enc_channels: tuple[int, ...] = param(
        (16, 32, 64), "pseudo-label encoder DownBlock channels", nonempty=True
    )
    n_classes: int = param(32, "K: symbol classes of the EBM / encoder logits", ge=2)
    nef: int = param(64, "EBM hidden width (s(z_s) uses 2*nef)", ge=1)
    reassign: bool = param(
        True, "learned pixel re-assignment (warp) on the background; False = ablation"
    )
    fg_instance_norm: bool = param(True, "InstanceNorm in the foreground decoder (official: on)")
    bg_instance_norm: bool = param(True, "InstanceNorm in the background decoder (official: on)")


@dataclass
class LangevinConfig:
    """Short-run Langevin dynamics for the posterior (E-step) and the EBM prior."""

    sigma: float = param(0.25, "sigma of the L1 pixel likelihood in the posterior", gt=0)
    delta_0: float = param(0.4, "prior Langevin step size", gt=0)
    delta_1: float = param(0.1, "posterior Langevin step size", gt=0)
    K0: int = param(20, "prior Langevin steps per iteration (persistent chains)", ge=1)
    K1: int = param(5, "posterior Langevin steps per iteration (persistent chains)", ge=1)
    infer_test: int = param(200, "posterior Langevin steps from noise at test time", ge=1)
    noise: bool = param(True, "add the Langevin noise term (False: gradient descent, for tests)")


@dataclass
class LossConfig:
    """Regulariser weights (0 switches one off), as in the official code."""

    tv: float = param(0.01, "total variation of the warped background (posterior and M-step)", ge=0)
    ce: float = param(0.1, "pseudo-label cross-entropy EBM symbols -> generator encoders", ge=0)
    orth: float = param(0.1, "orthogonality of conv weights of the fg and bg generators", ge=0)


@dataclass
class TrainConfig:
    """Optimisation."""

    iters: int = param(600, "training iterations (one E-step + M-step + EBM step each)", ge=1)
    batch_size: int = param(16, "images per iteration (per process under torchrun)", ge=1)
    lr: float = param(1e-3, "generator Adam learning rate (official 1e-4)", gt=0)
    ebm_lr_ratio: float = param(0.2, "EBM lr = ebm_lr_ratio * lr", gt=0)
    beta1: float = param(0.5, "Adam beta1", ge=0, lt=1)
    beta2: float = param(0.999, "Adam beta2", ge=0, lt=1)
    log_every: int = param(50, "log losses every n iterations", ge=1)
    ckpt_every: int = param(
        0, "checkpoint every n iterations (0: only at the end and on SIGTERM/SIGINT)", ge=0
    )
    eval_batch: int = param(50, "images per batch at test-time inference", ge=1)


@dataclass
class DRCConfig:
    """Everything `drc.reproduce` and `drc.train` read."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    langevin: LangevinConfig = field(default_factory=LangevinConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seeds: tuple[int, ...] = param((0, 1, 2), "training seeds", nonempty=True)
    ablation: bool = param(True, "also train the no-pixel-re-assignment ablation")
    baselines: bool = param(True, "evaluate all-foreground, colour k-means and GrabCut")
    device: str = param("auto", "auto | cpu | cuda | cuda:N")
    out: str | None = param(
        None, "report folder (default: results/<profile>; with overrides: the run folder)"
    )


def mechanism_tier(c: DRCConfig) -> DRCConfig:
    """The setting DRC's mechanism is tested on (README, Data; the note's pilot r5/r7 design).

    One object per image over a `stripes` background (disjoint palettes), 16x16, InstanceNorm
    removed from the background decoder only.
    """
    c.data.tier, c.data.max_objects, c.data.image_size = "stripes", 1, 16
    c.model.channels, c.model.enc_channels = (32, 32, 16), (16, 32)
    c.model.bg_instance_norm = False
    return c


def smoke() -> DRCConfig:
    """Seconds: the cpu profile's setting shrunk, 3 seeds (the claims' minimum), every code path."""
    c = mechanism_tier(DRCConfig())
    c.data.n_train, c.data.n_test, c.data.flip = 24, 8, True
    c.model.zf_dim, c.model.zs_dim, c.model.channels = 8, 8, (8, 8, 4)
    c.model.enc_channels, c.model.n_classes, c.model.nef = (4, 8), 4, 8
    c.langevin.K0, c.langevin.K1, c.langevin.infer_test = 2, 2, 3
    c.train.iters, c.train.batch_size, c.train.log_every, c.train.ckpt_every = 3, 8, 1, 2
    c.train.eval_batch = 8
    return c


def pilot() -> DRCConfig:
    """One seed of DRC at the `cpu-long` budget, to check the gates before `cpu-long` is run.

    `python -m drc.reproduce --profile pilot`: `cpu-long` with seed 0 (not one of cpu-long's).
    """
    c = cpu_long()
    c.seeds = (0,)
    return c


def cpu() -> DRCConfig:
    """The CPU profile: `python -m drc.reproduce --profile cpu` (`make reproduce PROJECT=drc`).

    The mechanism tier (stripes, one object, 16x16), 64 training / 40 held-out images, seeds 0-2
    x {DRC, no re-assignment}, 150 iterations of batch 32 with K1 = 10 posterior and K0 = 20
    prior Langevin steps (48k posterior image-steps per run, 750 per training chain), 300
    test-time posterior steps from noise. Numbers and wall time: RESULTS.md.
    """
    c = mechanism_tier(DRCConfig())
    c.data.n_train, c.data.n_test = 64, 40
    c.langevin.K1, c.langevin.infer_test = 10, 300
    c.train.iters, c.train.batch_size = 150, 32
    return c


def cpu_long() -> DRCConfig:
    """The budget that carries the central claim: `python -m drc.reproduce --profile cpu-long`.

    `cpu` trained 1250 iterations instead of 150 (400k posterior image-steps per run, the note's
    CPU plan; 6250 steps per training chain), inferred with 800 test-time posterior steps from
    noise instead of 300 (README, Results: held-out IoU stops rising by 800), on seeds 1-3 (seed
    0 was the pilot's), DRC only (the ablation claim C2 is judged by `cpu`: both would not fit
    in an hour on 2 shared cores). Writes results/cpu/long_metrics.json and its section of
    RESULTS.md.
    """
    c = cpu()
    c.train.iters, c.langevin.infer_test = 1250, 800
    c.seeds, c.ablation = (1, 2, 3), False
    return c


def paper() -> DRCConfig:
    """The official CUB "all" configuration (`config.yml.example`; the repo has no cub_all.yml)."""
    c = DRCConfig()
    c.data.source, c.data.image_size, c.data.flip, c.data.n_test = "folder", 128, True, 1000
    c.model.zf_dim, c.model.zb_dim, c.model.zs_dim = 256, 256, 512
    c.model.channels = (128, 1024, 512, 256, 128, 64)
    c.model.enc_channels = (64, 128, 256, 512, 1024)
    c.model.n_classes, c.model.nef = 200, 200
    c.langevin.K0, c.langevin.K1, c.langevin.infer_test = 60, 40, 300
    c.train.lr = 1e-4
    c.train.iters, c.train.batch_size, c.train.log_every, c.train.ckpt_every = 100_000, 48, 100, 300
    c.train.eval_batch = 48
    c.ablation, c.baselines = False, True  # seeds 0-2: the claims need >= 3
    return c


def paper_textured() -> DRCConfig:
    """The official `config_gallery/textured.yml` on procedural TexSprites (GPU; no download).

    128x128, 20,000 training images (N_SAMPLE) with 1-3 objects (N_OBJ 3), z_b = 4, z_s = 1024,
    5,000 test-time posterior steps; the rest as `paper`. The official test set is the first
    1,000 training images (transductive: C5 here), held-out images are scored beside it.
    """
    c = paper()
    c.data.source, c.data.tier, c.data.max_objects = "sprites", "texsprites", 3
    c.data.n_train = 20_000
    c.model.zb_dim, c.model.zs_dim = 4, 1024
    c.langevin.infer_test = 5000
    return c


def paper_clevr() -> DRCConfig:
    """The official `config_gallery/clevr.yml` on the procedural CLEVR-like scenes (GPU).

    128x128, 70,000 training images (N_SAMPLE; about 14 GB as float32), 3-6 objects (CLEVR6),
    z_b = 2, z_s = 256, 20,000 test-time posterior steps; the rest as `paper`.
    """
    c = paper()
    c.data.source, c.data.max_objects, c.data.n_train = "clevr", 6, 70_000
    c.model.zb_dim, c.model.zs_dim = 2, 256
    c.langevin.infer_test = 20_000
    return c


def paper_cub() -> DRCConfig:
    """`paper` on the official Birds protocol (`--data.image_dir CUB_ROOT`; drc.cub): "all"."""
    c = paper()
    c.data.source = "cub_all"
    return c


PROFILES = {
    "smoke": smoke,
    "pilot": pilot,
    "cpu": cpu,
    "cpu-long": cpu_long,
    "paper": paper,
    "paper-cub": paper_cub,
    "paper-textured": paper_textured,
    "paper-clevr": paper_clevr,
}
