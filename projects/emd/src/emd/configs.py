"""Typed configurations and the three profiles (``smoke``, ``cpu``, ``paper``).

Every field is read by the code (a test on the smoke profile checks this); values marked
"unverified" in the ``paper`` profile could not be checked against the paper's appendix here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reprokit.config import param

METHODS: tuple[str, ...] = (
    "di",
    "emd",
    "emd_nocancel",
    "emd_xz",
    "emd16",
    "emd2",
    "emd4",
    "emd_eps",
)
K_CHOICES: tuple[int, ...] = (1, 2, 4, 8, 16)


@dataclass
class DataConfig:
    """What the teacher is trained on."""

    dataset: Literal["rare2d", "mixture2d", "digits", "images"] = param(
        "rare2d",
        "2-D mixture with rare modes (1-6%) and unequal widths, the 2-D imbalanced 8-mode "
        "mixture, sklearn digits (64-D), or an image file",
    )
    path: str | None = param(None, "images: a .npz file or an image folder (paper profile)")
    image_size: int = param(64, "images: resize to this size", ge=4)


@dataclass
class TeacherConfig:
    """Teacher diffusion model ψ (also the architecture of θ and φ) and its training."""

    arch: Literal["mlp", "unet"] = param("mlp", "MLP for flat data, ADM-style U-Net for images")
    hidden: int = param(128, "mlp: hidden width", ge=1)
    depth: int = param(3, "mlp: hidden layers", ge=1)
    n_fourier: int = param(16, "Fourier features of λ", ge=2)
    channels: int = param(192, "unet: base channels", ge=1)
    channel_mult: tuple[int, ...] = param((1, 2, 3, 4), "unet: channel multiplier per level", ge=1)
    num_res_blocks: int = param(3, "unet: residual blocks per level", ge=1)
    attn_resolutions: tuple[int, ...] = param((32, 16, 8), "unet: resolutions with attention")
    steps: int = param(12000, "Adam steps", ge=1)
    batch: int = param(256, "batch size", ge=1)
    lr: float = param(1e-3, "Adam learning rate (cosine-decayed to 0)", gt=0)
    lambda_min: float = param(-10.0, "log-SNR at u = 1")
    lambda_max: float = param(10.0, "log-SNR at u = 0")
    sample_steps: int = param(200, "ancestral sampler steps (NFE)", ge=2)


@dataclass
class DistillConfig:
    """EMD hyperparameters (paper §3; Alg. 1)."""

    K: int = param(8, "Langevin steps of the E-step (EMD-K)", choices=K_CHOICES)
    space: Literal["eps_z", "x_z", "eps"] = param("eps_z", "E-step sampling space")
    cancel_noise: bool = param(True, "subtract the bookkept initial + injected noise")
    gamma_eps: float = param(0.5, "Langevin step size γ_ε", gt=0, lt=2)
    gamma_z: float = param(0.001, "Langevin step size γ_z", ge=0)
    lambda_star: float = param(-6.0, "generator = teacher denoiser at log-SNR λ*")
    weighting: Literal["eps", "x"] = param("eps", "w(t): eps = σ/α, x = σ²/α²")
    lr_g: float = param(5e-4, "generator Adam learning rate", gt=0)
    lr_s: float = param(1e-3, "student score Adam learning rate", gt=0)
    b1: float = param(0.0, "Adam β1 (θ and φ)", ge=0, lt=1)
    b2: float = param(0.99, "Adam β2 (θ and φ)", ge=0, lt=1)
    student_updates: int = param(2, "student DSM steps per generator step", ge=1)
    steps: int = param(1000, "generator steps", ge=1)
    batch: int = param(128, "batch size (E/M-step and student DSM)", ge=1)
    u_min: float = param(0.02, "E/M-step noise levels: u ~ U(u_min, u_max)", ge=0, le=1)
    u_max: float = param(0.98, "E/M-step noise levels: u ~ U(u_min, u_max)", ge=0, le=1)


@dataclass
class EvalConfig:
    """Evaluation and logging."""

    n_samples: int = param(20000, "samples per model for the metrics", ge=10)
    mmd_samples: int = param(2000, "samples (each side) in the RBF-MMD and sliced W1", ge=10)
    chunk: int = param(250, "generator steps per jitted lax.scan chunk (= eval interval)", ge=1)
    timing_samples: int = param(1000, "samples for the sampling-cost measurement", ge=1)
    nfe: tuple[int, ...] = param((1, 2, 4), "small teacher NFEs compared with one EMD step", ge=1)
    kl_chains: int = param(
        4000, "chains per noise level in the E-step KL estimate (C7, 2-D mixtures)", ge=10
    )
    grad_batches: int = param(
        32, "minibatches per fixed-state gradient-covariance estimate (C2)", ge=2
    )


@dataclass
class Config:
    """Top-level configuration of ``python -m emd.reproduce``."""

    seeds: tuple[int, ...] = param(
        (0, 1, 2), "distillation seeds (the teacher uses teacher_seed)", nonempty=True
    )
    teacher_seed: int = param(0, "seed of the teacher run shared by all distillation seeds")
    methods: tuple[str, ...] = param(
        ("di", "emd", "emd_nocancel", "emd_xz", "emd16", "emd2", "emd4"),
        "runs per seed",
        choices=METHODS,
        nonempty=True,
    )
    out: str | None = param(None, "output folder (default results/<profile>)")
    data: DataConfig = field(default_factory=DataConfig)
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


def cpu() -> Config:
    """CPU profile: the rare-mode 2-D mixture; Diff-Instruct vs EMD-8 (central), the K sweep
    (EMD-2, -4, -16), the no-cancellation ablation, the (x, z) arm (C4); 3 seeds, 1000
    generator steps each; C2 at fixed states of the EMD-8 runs; the teacher (12000 steps: the
    pilot's 6000-step teacher recovered only 65% of the 1% mode) at 1, 2, 4 and 200 NFE; 20000
    samples per evaluation (the rare-mode recall's binomial noise at 5000 kept G_rare undecided).

    ``make reproduce PROJECT=emd`` (minutes on an idle 2-core machine with OMP_NUM_THREADS=1,
    much longer when shared: see RESULTS.md for the measured wall time).
    """
    return Config()


def cpu_8mode() -> Config:
    """The secondary target (issue 16 item 2): the research note's 8-mode mixture (weights down
    to 4%, equal widths), Diff-Instruct vs EMD-8, 3 seeds; the claims those two runs decide
    (``claims.EIGHT_MODE_CLAIMS``). Committed as ``results/cpu/8mode_*`` and a marked section of
    RESULTS.md (``make reproduce PROJECT=emd PROFILE=cpu-8mode``)."""
    cfg = Config(methods=("di", "emd"))
    cfg.data.dataset = "mixture2d"
    return cfg


def cpu_digits() -> Config:
    """Issue 16 item 7: sklearn digits (64-D), Diff-Instruct vs EMD-8, 3 seeds; proxy-FID and
    k-NN recall against the 297 test digits (``metrics.digits_metrics``). Committed as
    ``results/cpu/digits_*`` and a marked section of RESULTS.md (``make reproduce PROJECT=emd
    PROFILE=cpu-digits``); a smaller MLP and budget than the note's Tier B (CPU time)."""
    cfg = Config(methods=("di", "emd"))
    cfg.data.dataset = "digits"
    cfg.teacher.hidden, cfg.teacher.steps = 256, 4000
    cfg.distill.steps = 900
    cfg.eval.n_samples, cfg.eval.mmd_samples, cfg.eval.chunk = 2000, 297, 150
    cfg.eval.grad_batches = 4
    return cfg


def smoke() -> Config:
    """Seconds: every code path (metrics, gates, claims, figures) on a tiny budget; 3 seeds, the
    fewest the claims rule judges. emd16 (C3b) is left out: its claim shows the missing-metric
    path (untestable); emd16 and emd_eps run the same code as emd."""
    cfg = Config(methods=METHODS[:4])
    cfg.teacher.hidden, cfg.teacher.steps, cfg.teacher.batch, cfg.teacher.sample_steps = (
        16,
        20,
        64,
        4,
    )
    cfg.distill.steps, cfg.distill.batch, cfg.distill.K = 4, 32, 2
    cfg.eval.n_samples, cfg.eval.mmd_samples, cfg.eval.chunk, cfg.eval.timing_samples = (
        200,
        100,
        2,
        200,  # = n_samples: the timed samplers are the compiled evaluation samplers
    )
    cfg.eval.nfe, cfg.eval.grad_batches, cfg.eval.kl_chains = (1, 2), 2, 50
    return cfg


def paper() -> Config:
    """ImageNet-64 setting (GPU): ADM U-Net teacher (EDM's ``edm-imagenet-64x64-cond-adm``
    architecture, unconditional here), EMD-16. Needs ``--data.path`` to a 64×64 ``.npz`` or folder.

    lr_g, lr_s, batch, γ_ε, γ_z and the step count are unverified (appendix not readable here).
    Three seeds: the fewest the claims rule (``reprokit.claims``) accepts.
    """
    cfg = Config(methods=("emd",))
    cfg.data.dataset, cfg.data.image_size = "images", 64
    cfg.teacher.arch, cfg.teacher.steps, cfg.teacher.batch, cfg.teacher.lr = (
        "unet",
        400_000,
        512,
        2e-4,
    )
    cfg.teacher.sample_steps = 256
    d = cfg.distill
    d.K, d.lambda_star, d.lr_g, d.lr_s, d.batch, d.steps = 16, -6.0, 2e-6, 1e-5, 512, 300_000
    d.gamma_eps, d.gamma_z, d.student_updates, d.weighting = 0.16, 0.004, 1, "x"
    cfg.eval.n_samples, cfg.eval.chunk = 50_000, 1000
    return cfg


PROFILES = {
    "smoke": smoke,
    "cpu": cpu,
    "cpu-8mode": cpu_8mode,
    "cpu-digits": cpu_digits,
    "paper": paper,
}
# The wall time each unmodified profile is expected to take (printed in the run's header).
EXPECTED = {
    "smoke": "about 1 min on 2 CPU cores",
    "cpu": "about 12 min on 2 idle CPU cores, 20 min or more when shared",
    "cpu-8mode": "about 5 min in one CPU slot (2 cores shared with other jobs)",
    "cpu-digits": "about 15 min on 2 CPU cores shared with other jobs",
    "paper": "days on one accelerator (not measured here)",
}
