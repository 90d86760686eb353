"""Typed configuration and the four profiles (smoke, cpu, cpu-grid, paper).

* smoke: seconds; every code path (Tier A on Center and on the 3x3 Grid, Tier B, all models,
  answer generation), tiny data. ``python -m alans.reproduce --profile smoke``.
* cpu: the default; ~12 min on one core. Tier A on Center, all three splits x 3 seeds (ALANS,
  ALANS-Ind, the untrained backend, the flat MLP, the factored relation net with one-hot and
  scalar codes, the panel Transformer). Gates and claims C1-C10, C12: ``claims.py``. The pixel
  tier (Tier B) carries no cpu claim (one seed: no verdict) and is off here; ``--tier_b.enabled
  true`` adds it (the previous cpu profile's setting).
* cpu-grid: ~6 min on one core. Tier A on the 3x3 Grid (``distribute_nine``, the official
  default configuration), productivity split x 3 seeds, the same models (the relation nets and
  the Transformer 1000 steps); its claim C14 is central there. Writes
  ``results/cpu/grid_metrics.json`` and a marked section of RESULTS.md.
* paper: the official hyperparameters (Adam 0.95e-4, batch 32, 200 epochs of 6k problems,
  32-px crops, lambdas and softmax scales of ``const.py``) on 10k-problem splits (6k/2k/2k),
  Center and the 3x3 Grid; seeds 1234 (official), 1235, 1236; GPU. Tier B trains only ALANS as
  the paper does (answer CE + auxiliary operator CE, no attribute labels), from an official
  starter checkpoint given by ``--tier_b.starter`` (the documented start; ``alans.starter``),
  else from random initialisation. Supervised-perception ALANS (the attribute-labelled LeNet
  warm-up, a labelled variant) is off (``warmup_steps`` 0); ``--tier_b.warmup_steps N
  --tier_b.warmup_problems P`` adds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from reprokit.config import param

from .model import Hyper


@dataclass
class DataCfg:
    config: Literal["center", "grid2x2", "grid3x3"] = param(
        "center", "RAVEN configuration of every problem (grid3x3 = distribute_nine)"
    )
    answer_set: Literal["iraven", "raven"] = param(
        "iraven", "I-RAVEN bisection or RAVEN answer sets"
    )
    n_train: int = param(4000, "training problems per split", ge=8)
    n_val: int = param(1000, "validation problems per split", ge=8)
    n_test: int = param(2000, "held-out test problems per split (and IID test problems)", ge=8)


@dataclass
class PaperDataCfg(DataCfg):
    """The paper profile's data: generated, or real RAVEN / I-RAVEN files by path for Tier B."""

    raven_dir: Path | None = param(
        None,
        "folder of real RAVEN / I-RAVEN .npz files (with center_single/, distribute_four/ or "
        "distribute_nine/ inside, and the *_comp0_rule.npz annotations) for Tier B; "
        "default: generated problems",
    )


@dataclass
class AlansCfg:
    """Inner-optimisation constants of ALANS (official ``const.py`` values)."""

    lam_exist: float = param(1e-4, "INNER_REG for exist / Position", gt=0)
    lam_number: float = param(1e-6, "INNER_REG for Number", gt=0)
    lam_type: float = param(1e-6, "INNER_REG for Type", gt=0)
    lam_size: float = param(1e-6, "INNER_REG for Size", gt=0)
    lam_color: float = param(5e-7, "INNER_REG for Color", gt=0)
    action_scale: float = param(1e4, "operator-posterior softmax scale, Type/Size/Color", gt=0)
    number_scale: float = param(0.1, "operator-posterior softmax scale, Number", gt=0)
    exist_scale: float = param(1.0, "operator-posterior softmax scale, exist", gt=0)
    pred_scale: float = param(1e3, "decode softmax scale PRED_SOFTMAX_SCALE", gt=0)
    exist_pred_scale: float = param(1.0, "decode softmax scale of exist (official: none)", gt=0)
    select_scale: float = param(1e3, "Position-vs-Number selection softmax scale", gt=0)
    aux: float = param(1.0, "weight of the auxiliary operator cross-entropy", ge=0)

    def hyper(self) -> Hyper:
        lam = (
            ("exist", self.lam_exist),
            ("number", self.lam_number),
            ("type", self.lam_type),
            ("size", self.lam_size),
            ("color", self.lam_color),
        )
        return Hyper(
            lam,
            self.action_scale,
            self.number_scale,
            self.exist_scale,
            self.pred_scale,
            self.exist_pred_scale,
            self.select_scale,
        )


@dataclass
class TierACfg:
    enabled: bool = param(True, "run Tier A (ground-truth attributes -> reasoning)")
    splits: tuple[str, ...] = param(
        ("systematicity", "productivity", "localism"), "splits to run", nonempty=True
    )
    steps: int = param(200, "optimisation steps of ALANS", ge=0)
    lr: float = param(1e-2, "Adam learning rate of ALANS's 16 reasoning parameters", gt=0)
    ind_steps: int = param(300, "optimisation steps of ALANS-Ind", ge=0)
    ind_lr: float = param(1e-2, "Adam learning rate of ALANS-Ind's per-value matrices", gt=0)
    baselines: tuple[str, ...] = param(
        ("mlp", "relnet_onehot", "relnet_scalar", "transformer_scalar"),
        "connectionist baselines: mlp, relnet_<enc>, transformer_<enc>; "
        "enc in onehot, thermometer, scalar",
        nonempty=True,
    )
    mlp_steps: int = param(800, "optimisation steps of the flat contrastive MLP", ge=0)
    mlp_lr: float = param(1e-3, "Adam learning rate of the flat MLP", gt=0)
    baseline_steps: int = param(500, "optimisation steps of the relation net / Transformer", ge=0)
    relnet_lrs: tuple[float, ...] = param(
        (3e-3,), "Adam learning rates tried per relation net (best on val kept)", nonempty=True
    )
    transformer_lrs: tuple[float, ...] = param(
        (1e-3,), "Adam learning rates tried per Transformer (best on val kept)", nonempty=True
    )
    batch: int = param(128, "problems per step", ge=1)
    label_smoothing: float = param(0.0, "smoothing of the ground-truth one-hot inputs", ge=0, lt=1)


@dataclass
class GridCfg:
    """Tier A on a Grid configuration (issue 17 item 5), beside or instead of the main one: the
    models, steps and learning rates of ``tier_a`` (the relation nets and the Transformer with
    their own step count), on the Grid's own generated problems."""

    enabled: bool = param(True, "run Tier A on a Grid configuration")
    config: Literal["grid2x2", "grid3x3"] = param(
        "grid3x3", "Grid configuration (grid3x3 = distribute_nine, the official default)"
    )
    splits: tuple[str, ...] = param(("productivity",), "splits run on the Grid", nonempty=True)
    n_train: int = param(4000, "training problems per Grid split", ge=8)
    n_val: int = param(1000, "validation problems per Grid split", ge=8)
    n_test: int = param(2000, "held-out test (and IID test) problems per Grid split", ge=8)
    baseline_steps: int = param(
        1000, "optimisation steps of the relation nets / Transformer on the Grid", ge=0
    )


@dataclass
class TierBCfg:
    enabled: bool = param(True, "run Tier B (pixels)")
    split: Literal["systematicity", "productivity", "localism"] = param("systematicity", "split")
    n_train: int = param(4000, "training problems (rendered)", ge=8)
    n_test: int = param(1000, "test and IID problems evaluated", ge=8)
    seeds: tuple[int, ...] = param((0,), "seeds of Tier B", nonempty=True)
    warmup_problems: int = param(
        250,
        "supervised-perception ALANS (a labelled variant): problems whose 16 panels label "
        "its LeNet warm-up",
        ge=0,
    )
    warmup_steps: int = param(
        300,
        "supervised-perception ALANS (a labelled variant, not the paper's training): "
        "attribute-supervised LeNet warm-up steps; 0 = the variant is not trained",
        ge=0,
    )
    warmup_batch: int = param(128, "supervised-perception ALANS: panels per warm-up step", ge=1)
    steps: int = param(100, "end-to-end ALANS steps (after the warm-up, if any)", ge=0)
    batch: int = param(32, "problems per step", ge=1)
    warmup_lr: float = param(
        3e-3, "supervised-perception ALANS: Adam learning rate of the warm-up", gt=0
    )
    lr: float = param(
        0.95e-4, "Adam learning rate of perception, end to end (official value)", gt=0
    )
    backend_lr: float = param(1e-2, "Adam learning rate of the reasoning parameters", gt=0)
    paper_setting: bool = param(
        True, "train ALANS as the paper does: no warm-up, no attribute labels"
    )
    baseline_steps: int = param(400, "steps of the CNN-MLP and SCL baselines", ge=0)
    baseline_lr: float = param(1e-3, "Adam learning rate of the baselines", gt=0)


@dataclass
class PaperTierBCfg(TierBCfg):
    """The paper profile's Tier B: ``TierBCfg`` plus the documented start of the paper's
    training, an official starter checkpoint."""

    starter: Path | None = param(
        None,
        "official starter checkpoint (ALANS assets/sys.pth, prod.pth or loc.pth) that ALANS "
        "as the paper trains it starts from, as main.py --resume does; default: random "
        "initialisation",
    )


@dataclass
class Config:
    seeds: tuple[int, ...] = param((0, 1, 2), "seeds of Tier A", nonempty=True)
    data: DataCfg = field(default_factory=DataCfg)
    alans: AlansCfg = field(default_factory=AlansCfg)
    tier_a: TierACfg = field(default_factory=TierACfg)
    grid: GridCfg = field(default_factory=GridCfg)
    tier_b: TierBCfg = field(default_factory=TierBCfg)
    answer_generation: bool = param(True, "decode + render the predicted 9th panel")
    device: str = param("auto", "Tier B device: auto (cuda when available), cpu, cuda, cuda:N, mps")
    ckpt_every: int = param(
        50, "checkpoint every N steps of every training loop (and at its end)", ge=1
    )
    out: Path | None = param(None, "report folder (default: see reprokit.lifecycle.report_target)")


@dataclass
class PaperConfig(Config):
    """The paper profile's config: ``Config`` plus ``data.raven_dir`` and
    ``tier_b.starter`` (the smoke and cpu profiles keep ``Config``, so their config hashes
    and run folders are unchanged)."""

    data: PaperDataCfg = field(default_factory=PaperDataCfg)
    tier_b: PaperTierBCfg = field(default_factory=PaperTierBCfg)


def smoke() -> Config:
    c = Config(seeds=(0, 1, 2))  # three seeds, as in the cpu profile
    c.data = DataCfg(n_train=64, n_val=16, n_test=32)
    c.tier_a = TierACfg(steps=3, ind_steps=3, mlp_steps=3, baseline_steps=3, batch=16)
    c.grid = GridCfg(n_train=64, n_val=16, n_test=32, baseline_steps=3)
    c.tier_b = TierBCfg(
        n_train=32,
        n_test=16,
        warmup_problems=4,
        warmup_steps=2,
        warmup_batch=16,
        steps=2,
        batch=4,
        baseline_steps=2,
    )
    return c


def cpu() -> Config:
    """Tier A on Center only: the pixel tier and the Grid run in their own profiles (README)."""
    c = Config()
    c.grid = GridCfg(enabled=False)
    c.tier_b = TierBCfg(enabled=False)
    return c


def cpu_grid() -> Config:
    """Tier A on the 3x3 Grid (distribute_nine), productivity, 3 seeds: claim C14 (central)."""
    c = Config(answer_generation=False)
    c.tier_a = TierACfg(enabled=False)
    c.tier_b = TierBCfg(enabled=False)
    return c


def paper() -> PaperConfig:
    seeds = (1234, 1235, 1236)  # the official seed, then two more: the verdict rule needs n >= 3
    c = PaperConfig(seeds=seeds)
    c.data = PaperDataCfg(n_train=6000, n_val=2000, n_test=2000)
    steps = 200 * 6000 // 32  # 200 epochs at batch 32
    c.grid = GridCfg(n_train=6000, n_val=2000, n_test=2000, baseline_steps=steps)
    c.tier_a = TierACfg(
        steps=steps,
        lr=0.95e-4,
        ind_steps=steps,
        ind_lr=0.95e-4,
        mlp_steps=steps,
        baseline_steps=steps,
        relnet_lrs=(1e-4, 3e-4, 1e-3),
        transformer_lrs=(1e-4, 3e-4, 1e-3),
        batch=32,
    )
    c.tier_b = PaperTierBCfg(  # the paper's training only: no attribute-labelled warm-up
        n_train=6000,
        n_test=2000,
        seeds=seeds,
        warmup_problems=0,
        warmup_steps=0,
        steps=steps,
        lr=0.95e-4,
        backend_lr=0.95e-4,
        baseline_steps=steps,
    )
    return c


PROFILES = {"smoke": smoke, "cpu": cpu, "cpu-grid": cpu_grid, "paper": paper}
