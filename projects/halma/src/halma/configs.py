"""Typed configuration and the profiles of ``python -m halma.reproduce``.

- ``smoke``: seconds; every code path of ``reproduce`` (planners, 2 PPO updates per agent, the
  evaluation and the report) on a few boards; the tests run it.
- ``cpu``: planners, speed test, and the four symbolic agents (factored, relational, the
  unfactored MLP, and the digit-blind wrong method) at 200k PPO steps each over 3 seeds, 50
  evaluation boards per split. ``make reproduce PROJECT=halma``; sized from a one-seed pilot
  (README, "Pilot and design"); the image agents are left to ``cpu-long`` and ``paper`` (the
  design-risk note's item 2: slower per step).
- ``cpu-long``: the image agents (``factored`` and ``relational`` with a digit reader shared by
  the digit tiles, the ``slot_gru`` baseline with one encoder per tile; every reader pretrained
  on the training renderings, then frozen during PPO) at 150k PPO steps each over 3 seeds;
  ``make reproduce PROJECT=halma PROFILE=cpu-long`` (results/cpu/long_metrics.json and a section
  of RESULTS.md). It carries the perceptual split (C6, C10); sized from a one-seed pilot.
- ``paper``: the note's full-scale plan: every agent (image and symbolic), 10M PPO steps per
  agent (512 envs x 64 steps), 1,000 evaluation boards per split, 50,000 training boards; the
  agents train on the CPU for now (GPU placement is open work).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reprokit.config import param

from .agents import AGENT_NAMES, AgentName
from .ppo import PPO
from .rules import Rules
from .splits import Layout


@dataclass
class Config:
    seeds: tuple[int, ...] = param(
        (0, 1, 2), "seeds (a board sample per split, agent weights)", nonempty=True
    )
    agents: tuple[AgentName, ...] = param(
        ("symbolic_factored", "symbolic_relational", "symbolic_blind", "symbolic"),
        "agents trained with PPO",
    )
    n_boards: int = param(50, "evaluation boards per split and seed", ge=1)
    eval_greedy: bool = param(False, "agents act by argmax instead of sampling in evaluation")
    speed_batch: int = param(1024, "boards in the batched state of the speed test", ge=1)
    speed_steps: int = param(50, "timed steps of the speed test", ge=1)
    rules: Rules = field(default_factory=Rules)
    layout: Layout = field(default_factory=Layout)
    ppo: PPO = field(default_factory=PPO)
    out: str | None = param(None, "report folder (default: projects/halma/results/<profile>)")


LONG = "cpu-long"
SMOKE_PPO = PPO(
    total_steps=2 * 8 * 4,
    n_envs=8,
    rollout=4,
    epochs=1,
    minibatches=2,
    n_train_boards=8,
    checkpoint_every=1,
)
PROFILES = {
    "smoke": Config(
        agents=(
            "symbolic",
            "symbolic_factored",
            "symbolic_relational",
            "symbolic_blind",
            "factored",
            "slot_gru",
        ),
        n_boards=4,
        speed_batch=16,
        speed_steps=3,
        ppo=SMOKE_PPO,
    ),
    "cpu": Config(ppo=PPO(total_steps=200_000)),
    LONG: Config(
        agents=("factored", "relational", "slot_gru"),
        ppo=PPO(total_steps=150_000),
    ),
    "paper": Config(
        agents=AGENT_NAMES,
        n_boards=1000,
        speed_batch=4096,
        ppo=PPO(total_steps=10_000_000, n_envs=512, rollout=64, n_train_boards=50_000, hidden=128),
    ),
}
