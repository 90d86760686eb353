"""Typed configuration and profiles.

* ``smoke``: seconds; every code path (all settings, probes, report). ``--profile smoke``
* ``pilot``: one seed (seed 100) of complete and sender-fixed at the cpu sizes: the gates and the
  seconds per game that sized ``cpu``. ``python -m sketchgame.reproduce --profile pilot``
* ``cpu``: the default: complete and sender-fixed, seeds 0-2 (three, the issue's minimum: five
  took 23 min under load, over the issue's 15-minute limit).
  ``make reproduce PROJECT=sketchgame``
* ``cpu-long``: every setting (adds max, REINFORCE, one-step, retrieve) at the cpu sizes, seeds
  0-2; writes results/cpu/long_metrics.json and a marked section of RESULTS.md.
  ``make reproduce PROJECT=sketchgame PROFILE=cpu-long``
* ``paper``: the official sizes (128 px, batch 64, 50k games, 5 strokes × 7 steps, lr 1e-4,
  warm-up 2000 games), GPU; the procedural referents stand in for Sketchy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from reprokit.config import param

SettingName = Literal["complete", "max", "senderfixed", "reinforce", "onestep", "retrieve"]
SETTINGS_ALL: tuple[SettingName, ...] = (
    "complete", "senderfixed", "max", "reinforce", "onestep", "retrieve",
)  # fmt: skip


@dataclass
class GameConfig:
    size: int = param(32, "canvas side in pixels (official 128)", ge=8)
    strokes_per_step: int = param(5, "strokes the sender adds per step (official 5)", ge=1)
    max_step: int = param(7, "steps per game (official 7)", ge=1)
    sigma: float = param(0.6, "splat Gaussian width σ in pixels", gt=0)
    points_per_stroke: int = param(6, "points K splatted per Bézier stroke", ge=2)
    gain: float = param(1.5, "ink s = 1 − exp(−gain·density)", gt=0)
    gamma: float = param(0.85, "discount γ (official 0.85)", gt=0, le=1)
    lam: float = param(0.95, "λ of the λ-returns (official 0.95)", ge=0, le=1)


@dataclass
class DataConfig:
    heldout_shapes: tuple[str, ...] = param(
        ("ellipse", "star"), "base shapes held out (unseen categories)", nonempty=True
    )
    n_train_instances: int = param(10, "training referents per category (official 10)", ge=3)
    n_test_instances: int = param(5, "unseen instances per category", ge=1)
    n_pool_instances: int = param(15, "instances per encoder-pool category", ge=5)
    n_pretrain_instances: int = param(
        40, "fresh sketches per seen category for sender pretraining", ge=1
    )
    encoder_jitter: float = param(0.015, "stroke jitter of the encoder's extra pool sketches", ge=0)
    modifiers_after: int = param(
        10, "outline strokes before the modifier strokes (the rest of the outline after)", ge=0
    )
    p_same_shape: float = param(
        0.6, "probability of a same-shape distractor (≥ 0.5, note item 5)", ge=0, le=1
    )


@dataclass
class ModelConfig:
    feat_dim: int = param(64, "frozen encoder feature size (VGG fc7: 4096)", ge=4)
    proj_dim: int = param(100, "receiver/value projections (official 100)", ge=2)
    sender_width: int = param(16, "sender CNN base width", ge=4)


@dataclass
class PretrainConfig:
    encoder_steps: int = param(1000, "encoder classification steps on the disjoint pool", ge=1)
    sender_steps: int = param(2500, "teacher-forced sender regression steps", ge=1)
    sender_lr: float = param(2e-3, "Adam lr of sender pretraining", gt=0)
    sender_own_after: float = param(
        0.5,
        "fraction of sender pretraining after which half of each batch starts from the sender's "
        "own canvas (1: teacher forcing only)",
        ge=0,
        le=1,
    )


@dataclass
class TrainConfig:
    n_games: int = param(1200, "game batches (updates) per setting (official 50000)", ge=1)
    fixed_sender_games: int = param(
        3600,
        "game batches of the fixed-sender settings (sender-fixed, retrieve: only the receiver "
        "learns, on replayed canvases; official: n_games)",
        ge=1,
    )
    batch_size: int = param(32, "games per batch (official 64)", ge=1)
    sender_lr: float = param(1e-3, "peak sender lr (official 1e-4; scaled for small nets)", gt=0)
    receiver_lr: float = param(3e-3, "receiver lr (official 1e-4)", gt=0)
    value_lr: float = param(3e-3, "value-model lr (official 1e-4)", gt=0)
    warmup_games: int = param(240, "sender lr warm-up from 0 (≤ 20% of n_games)", ge=1)
    decay_every: int = param(200, "lr decay period in games", ge=1)
    sender_decay: float = param(0.99, "sender lr factor per period (official 0.99)", gt=0, le=1)
    receiver_decay: float = param(0.95, "receiver lr factor per period (official 0.95)", gt=0, le=1)
    log_every: int = param(10, "log period in games", ge=1)
    ckpt_every: int = param(100, "checkpoint period in games", ge=1)


@dataclass
class EvalConfig:
    n_games: int = param(1000, "greedy evaluation games per split", ge=3)
    symbolicity_shots: int = param(3, "training sketches per category of the classifier", ge=1)
    n_perm: int = param(999, "Mantel permutations", ge=9)
    window: int = param(60, "running-average window of the shrinkage gate (games)", ge=1)
    delta: float = param(0.05, "accuracy tolerance δ of the shrinkage gate", ge=0)
    n_snapshots: int = param(4, "sketch snapshots during training (figure)", ge=1)


@dataclass
class Config:
    seeds: tuple[int, ...] = param((0, 1, 2), "seeds", nonempty=True)
    settings: tuple[SettingName, ...] = param(
        ("complete", "senderfixed"), "environmental settings", nonempty=True
    )
    out: Path | None = param(None, "write the report here instead of the default")
    game: GameConfig = field(default_factory=GameConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


def cpu() -> Config:
    """complete and sender-fixed, seeds 0-2, n_games from the pilot's seconds per game."""
    return Config()


def pilot() -> Config:
    cfg = cpu()
    cfg.seeds = (100,)
    return cfg


def cpu_long() -> Config:
    """Every environmental setting at the cpu sizes (seeds 0-2): adds max, REINFORCE, one-step
    and retrieve."""
    cfg = cpu()
    cfg.seeds = (0, 1, 2)
    cfg.settings = SETTINGS_ALL
    return cfg


def smoke() -> Config:
    cfg = Config(seeds=(0, 1, 2), settings=SETTINGS_ALL)
    cfg.data = DataConfig(
        n_train_instances=3,
        n_test_instances=1,
        n_pool_instances=5,
        n_pretrain_instances=1,
        modifiers_after=2,
    )
    # 3 updates draw near-identical sketches; the own-canvas phase is covered by the unit tests
    cfg.pretrain = PretrainConfig(encoder_steps=3, sender_steps=3, sender_own_after=1.0)
    cfg.train = TrainConfig(
        n_games=10,
        fixed_sender_games=12,
        batch_size=4,
        warmup_games=2,
        decay_every=2,
        log_every=1,
        ckpt_every=4,
    )
    cfg.eval = EvalConfig(n_games=6, symbolicity_shots=1, n_perm=9, window=2)
    cfg.model = ModelConfig(feat_dim=8, proj_dim=4, sender_width=4)
    cfg.game = GameConfig(size=16, max_step=3, strokes_per_step=5)
    return cfg


def paper() -> Config:
    """The official sizes, for GPUs (procedural referents at 128 px)."""
    cfg = Config(seeds=(0,), settings=("complete", "max", "senderfixed", "reinforce"))
    cfg.game = GameConfig(size=128)
    cfg.model = ModelConfig(feat_dim=4096, proj_dim=100, sender_width=64)
    cfg.train = TrainConfig(
        n_games=50_000, fixed_sender_games=50_000, batch_size=64,
        sender_lr=1e-4, receiver_lr=1e-4, value_lr=1e-4,
        warmup_games=2000, decay_every=1000, ckpt_every=1000, log_every=100,
    )  # fmt: skip
    cfg.pretrain = PretrainConfig(encoder_steps=20_000, sender_steps=50_000, sender_lr=1e-3)
    return cfg


PROFILES = {"smoke": smoke, "pilot": pilot, "cpu": cpu, "cpu-long": cpu_long, "paper": paper}
