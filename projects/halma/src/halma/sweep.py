"""The one-seed PPO sweep that chose the baselines' learning rate and entropy bonus.

``python -m halma.sweep <agent> <steps> <setting> [<setting> ...]``, a setting being PPO fields
``key=value,key=value`` (e.g. ``unshared_lr=0.003,unshared_ent_coef=0.003``), trains the agent
once per setting (seed 0, default rules and layout) and prints its success on the *training*
boards per fifth of the PPO updates: no evaluation split is read. The setting whose last fifth
is highest becomes the default (``PPO.unshared_lr``, ``PPO.unshared_ent_coef``; README, "Pilot
and design").
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import get_args

import numpy as np

from reprokit.config import override
from reprokit.errors import UserError
from reprokit.lifecycle import entry

from .agents import AgentName
from .panel import digit_pool
from .ppo import PPO, train
from .rules import Rules
from .splits import Layout

SEED = 0
FIFTHS = 5


def setting(text: str, steps: int) -> PPO:
    """``key=value,...`` -> the default PPO with ``total_steps`` and those fields replaced."""
    pairs = [kv.split("=", 1) for kv in text.split(",")]
    if any(len(p) != 2 for p in pairs):
        raise UserError(f"a setting is key=value[,key=value...], got {text!r}")
    fields = {"total_steps": steps} | dict(pairs)
    return override(PPO(checkpoint_every=10**6), fields)


def training_curve(name: AgentName, ppo: PPO) -> list[float]:
    """Mean training-board success per fifth of the updates of one PPO run."""
    pool = None if name.startswith("symbolic") else digit_pool("train")
    with tempfile.TemporaryDirectory() as folder:
        _, history = train(name, ppo, Rules(), Layout(), pool, SEED, Path(folder))
    success = np.array([h["success"] for h in history])
    return [float(part.mean()) for part in np.array_split(success, FIFTHS)]


def run(argv: list[str], fresh: bool) -> None:
    if len(argv) < 3:
        raise UserError("usage: python -m halma.sweep <agent> <steps> <setting> [<setting> ...]")
    name, steps, texts = argv[0], argv[1], argv[2:]
    if name not in get_args(AgentName):
        raise UserError(f"unknown agent {name!r}; one of {', '.join(get_args(AgentName))}")
    if not steps.isdigit() or int(steps) < 1:
        raise UserError(f"<steps> must be a positive integer, got {steps!r}")
    settings = {t: setting(t, int(steps)) for t in texts}  # every input checked before training
    for text, ppo in settings.items():
        start = time.perf_counter()
        curve = training_curve(name, ppo)
        shown = ", ".join(f"{v:.3f}" for v in curve)
        print(f"{text}: training success per fifth [{shown}] ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    entry("halma.sweep", run)
