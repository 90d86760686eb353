"""Typed configuration and the three profiles (smoke, cpu, paper).

Profiles
* ``smoke``: seconds; every code path (references, regression, LanMDP, planning, report).
  ``python -m lanmdp.reproduce --profile smoke``
* ``cpu``: the default; the cubic task, 100 training curves per seed (10 left even the training
  windows under-fitted, see the README's pilot), L ∈ {1, 6} × 5 seeds as one ensemble, 6000
  iterations (the piloted budget; 20k diverged, see the README).
  ``make reproduce PROJECT=lanmdp`` (writes results/cpu/ and RESULTS.md).
* ``paper``: the official cubic-task configuration (``cubic/main.py``: h = 4·L_max, lr 1e-4,
  10k epochs × 3 steps, variance 0.1, 4 prior samples), all L at that width. GPU or long CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from reprokit.config import param


@dataclass
class DataConfig:
    """The cubic-curve data of each seed (a fresh draw per seed; design risk 2)."""

    train_curves: int = param(10, "state-only training curves per seed (paper: cubic-10)", ge=1)
    heldout_curves: int = param(100, "held-out curves for the teacher-forced action error", ge=1)
    eval_starts: int = param(100, "fresh starts y0 ~ U[−1, 1] of the executed paths", ge=1)
    c3_min: float = param(0.8, "curves draw |c3| ~ U[c3_min, 2] (above the 0.5 test)", gt=0, lt=2)


@dataclass
class ModelConfig:
    """The energy-based policy f_α(ctx, a) (official EnergyFunc) and the regression reference."""

    context_lengths: tuple[int, ...] = param(
        (1, 2, 4, 6), "context lengths L of the ablation (every seed trains each)", nonempty=True
    )
    hidden: int = param(32, "MLP width h, the same for every L (official: 4·L)", ge=1)
    layers: int = param(2, "hidden layers (official: 2)", ge=1)


@dataclass
class TrainConfig:
    """MLE of the policy prior (official cubic/main.py values in brackets)."""

    iterations: int = param(6000, "Adam steps of every member (official ≈ 30k)", ge=1)
    batch_size: int = param(64, "windows per member per step [64]", ge=1)
    n_prior: int = param(4, "short-run prior samples per window [4]", ge=2)
    langevin_steps: int = param(20, "prior Langevin steps during learning [20]", ge=1)
    step_size: float = param(1.0, "Langevin step size η [1]", gt=0)
    noise: float = param(0.02, "Langevin noise std ε [0.02]", ge=0)
    grad_clamp: float = param(0.3, "clamp of ∇_a E per step [0.3]", gt=0)
    sigma: float = param(0.05, "std of p_β(s'|s,a) in the weights [√0.1 ≈ 0.32]", gt=0)
    log_p_floor: float = param(-20.0, "floor of log p_β in the weights [−20]")
    f_sq: float = param(1e-3, "weight λ_f of mean f² [1e-3]", ge=0)
    grad_penalty: float = param(0.0, "weight λ_g of (|∇_a f| − 2)_+² [cubic: 0; MuJoCo 1e-3]", ge=0)
    lr: float = param(3e-3, "Adam learning rate [1e-4, constant]", gt=0)
    decay_from: float = param(
        0.5, "fraction of the iterations after which lr decays linearly to 0 (1: constant)",
        gt=0, le=1,
    )  # fmt: skip
    clip: float = param(0.5, "gradient-norm clip per member [0.5]", gt=0)
    ckpt_every: int = param(500, "iterations between checkpoints", ge=1)
    log_every: int = param(100, "iterations between log lines", ge=1)


@dataclass
class EvalConfig:
    """Execution and the valid-cubic test (design risk 1)."""

    langevin_steps: int = param(60, "prior Langevin steps per executed action [60]", ge=1)
    c3_test: float = param(0.5, "a valid cubic has |c3| ≥ c3_test [0.5]", gt=0)
    tau: float = param(0.02, "... and mean |fit residual| ≤ tau (note: 0.02)", gt=0)


@dataclass
class PlanConfig:
    """Receding-horizon planning (official prior_sample_planning_act_first)."""

    enabled: bool = param(True, "run the planning experiment on the L_max models")
    start: int = param(10, "first planned step t0 [10]", ge=0, le=19)
    steps: int = param(500, "refinement steps per executed action [500]", ge=1)
    step_size: float = param(0.5, "planner step size [0.5]", gt=0)
    alphas: tuple[float, ...] = param(
        (0.1, 1.0, 10.0), "goal weights α tried on the validation starts", nonempty=True, gt=0
    )
    goal_noise: float = param(0.2, "goal = clamp(policy's final y + N(0, σ²), −1, 1) [0.2]", ge=0)
    val_starts: int = param(50, "validation starts for choosing α (not the evaluation ones)", ge=1)


@dataclass
class Config:
    """One reproduce run."""

    seeds: tuple[int, ...] = param((0, 1, 2), "seeds (each: a fresh data draw)", nonempty=True)
    device: Literal["auto", "cpu", "cuda"] = param("cpu", "torch device")
    out: Path | None = param(None, "write metrics.json, figures and RESULTS.md here instead")
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    plan: PlanConfig = field(default_factory=PlanConfig)


def cpu() -> Config:
    return replace(
        Config(seeds=(0, 1, 2, 3, 4)),
        data=DataConfig(train_curves=100),
        model=ModelConfig(context_lengths=(1, 6)),
        train=TrainConfig(iterations=6000, ckpt_every=1000, log_every=200),
    )


def smoke() -> Config:
    return replace(
        Config(),
        data=DataConfig(heldout_curves=4, eval_starts=6),
        train=TrainConfig(iterations=20, ckpt_every=10, log_every=5),
        eval=EvalConfig(langevin_steps=5),
        plan=PlanConfig(steps=3, alphas=(1.0, 10.0), val_starts=4),
    )


def paper() -> Config:
    """The official cubic configuration (hidden 4·L for L = 6 used for every L)."""
    return replace(
        Config(seeds=(0, 1, 2, 3, 4), device="auto"),
        model=ModelConfig(hidden=24),
        train=TrainConfig(iterations=30_000, sigma=math.sqrt(0.1), lr=1e-4, decay_from=1.0),
    )


# -- MuJoCo state-only imitation (Reacher-v5) vs BCO ------------------------------------------
@dataclass
class TaskConfig:
    """Demonstrations, the interaction budget (equal for every learner) and the evaluation."""

    demos: int = param(20, "state-only expert demonstrations (50-step episodes)", ge=1)
    random_episodes: int = param(200, "random-action episodes of interaction at the start", ge=1)
    rounds: int = param(5, "learning rounds; a collection of policy rollouts between two", ge=1)
    episodes_per_round: int = param(20, "policy-rollout episodes added after each round", ge=0)
    buffer: int = param(100_000, "FIFO buffer of real transitions [100k]", ge=1)
    eval_episodes: int = param(30, "evaluation episodes (the same targets for every policy)", ge=1)
    kp: float = param(0.5, "scripted expert: PD gain on the IK joint-angle error", gt=0)
    kd: float = param(0.1, "scripted expert: damping on the joint velocities", ge=0)


@dataclass
class DynamicsConfig:
    """p_β(s'|s,a) and BCO's inverse model: same MLP size, data, steps and optimiser."""

    hidden: int = param(128, "MLP width [512]", ge=1)
    layers: int = param(3, "hidden layers [5]", ge=1)
    lr: float = param(1e-3, "AdamW learning rate [3e-3], weight decay 1e-4", gt=0)
    batch_size: int = param(256, "transitions per step [32768]", ge=1)
    first_steps: int = param(1000, "steps on the random interaction [200 epochs]", ge=1)
    round_steps: int = param(300, "steps after each collection [50 epochs]", ge=0)


@dataclass
class PolicyConfig:
    """LanMDP's energy-based policy (official mujoco/main.py values in brackets) and the size,
    steps, batch and lr BCO's cloned policy shares with it."""

    hidden: int = param(64, "MLP width [64]", ge=1)
    layers: int = param(4, "hidden layers [4]", ge=1)
    lr: float = param(5e-3, "AdamW learning rate [5e-3]", gt=0)
    batch_size: int = param(128, "demonstrated transitions per step [1024]", ge=1)
    iterations: int = param(400, "policy steps per round", ge=1)
    n_prior: int = param(8, "prior samples per transition [8]", ge=2)
    langevin_steps: int = param(20, "prior Langevin steps [40]", ge=1)
    noise: float = param(0.02, "Langevin noise std [0.1]", ge=0)
    grad_clamp: float = param(0.3, "clamp of ∇_a E per step [0.3]", gt=0)
    eta_max: float = param(10.0, "first Langevin step η (moves ½η·∇E) [10]", gt=0)
    eta_min: float = param(1.0, "last Langevin step η [1]", gt=0)
    sigma: float = param(0.02, "std of p_β in units of the std of s' − s [0.1 on raw states]", gt=0)
    f_sq: float = param(1e-4, "weight λ_f of mean f² [1e-4]", ge=0)
    grad_penalty: float = param(1e-3, "weight λ_g of (‖∇_a f‖_∞ − 2)_+² [1e-3]", ge=0)
    clip: float = param(0.5, "gradient-norm clip [0.5]", gt=0)
    candidates: int = param(32, "Langevin chains per executed action [512]", ge=1)
    act_noise: float = param(0.0, "noise added to the executed mode [0.1]", ge=0)


@dataclass
class ImitationConfig:
    """One MuJoCo reproduce run: LanMDP vs BCO at equal interaction, the references."""

    seeds: tuple[int, ...] = param(
        (0, 1, 2), "seeds (each: fresh demos, targets, interaction); CPU only", nonempty=True
    )
    out: Path | None = param(None, "write metrics.json, figures and RESULTS.md here instead")
    wrong_method: bool = param(True, "also train LanMDP with uniform weights (posterior = prior)")
    task: TaskConfig = field(default_factory=TaskConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)


def cpu_mujoco() -> ImitationConfig:
    return ImitationConfig()


def smoke_mujoco() -> ImitationConfig:
    return replace(
        ImitationConfig(),
        task=TaskConfig(
            demos=2, random_episodes=4, rounds=2, episodes_per_round=2, eval_episodes=2
        ),
        dynamics=DynamicsConfig(hidden=16, first_steps=5, round_steps=2, batch_size=32),
        policy=PolicyConfig(
            hidden=8, layers=2, iterations=3, batch_size=16, langevin_steps=3, candidates=4
        ),
    )


def paper_mujoco() -> ImitationConfig:
    """The official MuJoCo defaults (mujoco/main.py) on Reacher-v5: GPU or long CPU."""
    return replace(
        ImitationConfig(seeds=(0, 1, 2, 3, 4)),
        task=TaskConfig(random_episodes=2000, rounds=50, episodes_per_round=50),
        dynamics=DynamicsConfig(
            hidden=512, layers=5, lr=3e-3, batch_size=32768, first_steps=200, round_steps=50
        ),
        policy=PolicyConfig(
            batch_size=1024,
            iterations=20,
            langevin_steps=40,
            noise=0.1,
            sigma=0.1,
            candidates=512,
            act_noise=0.1,
        ),
    )


PROFILES = {
    "smoke": smoke,
    "cpu": cpu,
    "paper": paper,
    "smoke-mujoco": smoke_mujoco,
    "cpu-mujoco": cpu_mujoco,
    "paper-mujoco": paper_mujoco,
}
