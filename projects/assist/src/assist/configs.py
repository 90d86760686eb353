"""Typed configuration and the profiles (smoke, pilot, cpu, cpu-long, paper).

Profiles
* ``smoke``: seconds; every code path (both rooms, ASSIST, the monolithic baseline, the
  no-mask ablation, every edit and control, the oracle, the batching timing, figures).
  ``python -m assist.reproduce --profile smoke``
* ``pilot``: the one-seed pilot (seed 100, outside the cpu seeds) that sized the cpu profile.
  ``python -m assist.reproduce --profile pilot``
* ``cpu``: the default, ≤ 15 min on 2 cores: 3 seeds × {ASSIST, monolithic baseline}; held-out
  gates, the six edits with their controls and the oracle.
  ``make reproduce PROJECT=assist`` (writes RESULTS.md).
* ``cpu-long``: ≤ 45 min under load: 5 seeds × {ASSIST, the no-mask-loss ablation} (claim C7,
  and C1 on 5 seeds); writes results/cpu/long_* and a marked section of RESULTS.md.
  ``make reproduce PROJECT=assist PROFILE=cpu-long``
* ``paper``: a Replica RGB-D sequence read by path (vMAP's layout, ``assist.replica``) with
  vMAP-like MLP nodes (hidden 32 / 128, 5 PE levels, 120 / 1200 rays per step), for a GPU.
  ``python -m assist.reproduce --profile paper --data.replica PATH/room_0/imap/00
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from reprokit.config import param


@dataclass
class DataConfig:
    """The procedural room and its cameras."""

    width: int = param(128, "image width (px)", ge=8)
    height: int = param(96, "image height (px)", ge=8)
    fov_deg: float = param(70.0, "horizontal field of view (degrees)", gt=10, lt=170)
    train_views: int = param(60, "training views per room (a jittered ring, two heights)", ge=2)
    test_views: int = param(6, "held-out views (a fixed ring between the training views)", ge=1)
    replica: Path | None = param(
        None,
        "a Replica RGB-D sequence in vMAP's layout (rgb/, depth/, semantic_class/, "
        "semantic_instance/, traj_w_c.txt); none: the procedural rooms",
    )
    depth_scale: float = param(1000.0, "Replica depth PNG units per metre (vMAP: 1000)", gt=0)


@dataclass
class FieldConfig:
    """Each node's field: dense grids (cpu) or vMAP-style MLPs (paper)."""

    kind: Literal["grid", "mlp"] = param("grid", "field type of every node")
    object_res: int = param(32, "object grid resolution per axis (box-local)", ge=2)
    background_res: tuple[int, int, int] = param(
        (96, 96, 64), "background grid resolution (x, y, z) over the room", ge=2
    )
    baseline_res: tuple[int, int, int] = param(
        (96, 96, 64), "monolithic baseline density+RGB grid (instance logits at half)", ge=2
    )
    object_hidden: int = param(32, "MLP width of object nodes (vMAP: 32)", ge=1)
    background_hidden: int = param(128, "MLP width of the background node (vMAP: 128)", ge=1)
    pe_levels: int = param(5, "positional-encoding frequencies of MLP nodes", ge=0)


@dataclass
class TrainConfig:
    """Per-node training (vMAP losses) and the shared budget of ASSIST and the baseline."""

    steps: int = param(1000, "optimisation steps (all nodes step together)", ge=1)
    rays_object: int = param(
        256, "rays per object node per step (in its box's image footprint)", ge=1
    )
    rays_background: int = param(512, "background rays per step", ge=1)
    samples_object: int = param(24, "stratified samples per object ray", ge=1)
    samples_background: int = param(64, "stratified samples per background ray", ge=1)
    samples_surface: int = param(8, "Gaussian samples around the GT depth on own pixels", ge=0)
    surface_sigma: float = param(0.033, "std of the surface samples (vMAP: δ/3)", gt=0)
    clip_eps: float = param(0.02, "on another node's pixels, samples stop at depth + ε (m)", ge=0)
    lr: float = param(0.05, "Adam learning rate (grids; MLPs use lr_mlp)", gt=0)
    lr_mlp: float = param(1e-3, "AdamW learning rate of MLP nodes (vMAP)", gt=0)
    weight_decay_mlp: float = param(0.013, "AdamW weight decay of MLP nodes (vMAP)", ge=0)
    w_depth: float = param(1.0, "depth L1 weight", ge=0)
    w_colour: float = param(5.0, "colour L1 weight (vMAP color_scaling)", ge=0)
    w_opacity: float = param(10.0, "opacity/mask L1 weight (vMAP opacity_scaling)", ge=0)
    w_free: float = param(10.0, "line-of-sight weight: no weight in front of d − 3σ (ours)", ge=0)
    w_instance: float = param(1.0, "baseline: instance cross-entropy weight", ge=0)
    ckpt_every: int = param(500, "steps between checkpoints", ge=1)
    log_every: int = param(100, "steps between log lines", ge=1)


@dataclass
class RenderConfig:
    """Evaluation rendering (evenly spaced samples; no GT depth)."""

    samples_object: int = param(48, "samples per ray inside each object box", ge=2)
    samples_background: int = param(112, "samples per ray over the room", ge=2)


@dataclass
class Config:
    seeds: tuple[int, ...] = param((0, 1, 2), "seeds (camera jitter and training)", nonempty=True)
    methods: tuple[str, ...] = param(
        ("assist", "baseline"),
        "trained models (nomask: ASSIST without the opacity/mask loss)",
        choices=("assist", "baseline", "nomask"),
        nonempty=True,
    )
    speed_nodes: tuple[int, ...] = param(
        (2, 4, 8, 16), "node counts of the batched-vs-loop timing (empty: skip)"
    )
    speed_repeats: int = param(5, "timed steps per setting (median)", ge=1)
    device: Literal["cpu", "auto", "cuda"] = param("cpu", "auto: cuda when available")
    out: Path | None = param(
        None, "report folder (default: results/<profile>, or the run folder under overrides)"
    )
    data: DataConfig = field(default_factory=DataConfig)
    model: FieldConfig = field(default_factory=FieldConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    render: RenderConfig = field(default_factory=RenderConfig)


def cpu() -> Config:
    """≤ 15 min on 2 cores: 3 seeds × {ASSIST, baseline}, all edits and controls, the oracle."""
    return Config()


def cpu_long() -> Config:
    """≤ 45 min under load: 5 seeds × {ASSIST, the no-mask-loss ablation}; the baseline and the
    batching timing stay in ``cpu`` (the baseline costs about four ASSIST trainings)."""
    return Config(seeds=(0, 1, 2, 3, 4), methods=("assist", "nomask"), speed_nodes=())


def pilot() -> Config:
    """The one-seed pilot (seed 100) with the ablation, before the cpu profile was sized."""
    return Config(seeds=(100,), methods=("assist", "baseline", "nomask"), speed_nodes=(2, 16))


def smoke() -> Config:
    """Seconds: tiny images and grids, a few steps, every method and code path."""
    cfg = Config(methods=("assist", "baseline", "nomask"), speed_nodes=(2, 4), speed_repeats=1)
    cfg.data = DataConfig(width=32, height=24, train_views=6, test_views=2)
    cfg.model = FieldConfig(object_res=8, background_res=(12, 12, 8), baseline_res=(12, 12, 8))
    cfg.train = TrainConfig(
        steps=4, rays_object=16, rays_background=32, samples_object=6, samples_background=8,
        samples_surface=2, ckpt_every=2, log_every=1,
    )  # fmt: skip
    cfg.render = RenderConfig(samples_object=6, samples_background=12)
    return cfg


def paper() -> Config:
    """vMAP-like MLP nodes and budgets on a Replica sequence (``--data.replica``), for a GPU:
    1200×680 frames, fx = 600 (90° field of view), 200 training and 20 held-out frames."""
    cfg = Config(seeds=(0,), methods=("assist", "baseline"), device="auto", speed_nodes=(2, 16))
    cfg.data = DataConfig(width=1200, height=680, fov_deg=90.0, train_views=200, test_views=20)
    cfg.model = FieldConfig(kind="mlp", object_hidden=32, background_hidden=128, pe_levels=5)
    cfg.train = TrainConfig(
        steps=20000, rays_object=120, rays_background=1200, samples_object=9,
        samples_background=9, samples_surface=9, ckpt_every=2000, log_every=500,
    )  # fmt: skip
    cfg.render = RenderConfig(samples_object=96, samples_background=256)
    return cfg


PROFILES = {"smoke": smoke, "pilot": pilot, "cpu": cpu, "cpu-long": cpu_long, "paper": paper}
