"""A config module used by test_config (also run as a script in a subprocess)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from reprokit.config import param, parse, to_dict


@dataclass
class Train:
    lr: float = param(3e-4, "Adam learning rate", gt=0)
    steps: int = param(100, "optimisation steps", ge=1)
    amp: bool = param(False, "mixed precision")


@dataclass
class Config:
    seed: int = param(0, "first seed", ge=0)
    seeds: tuple[int, ...] = param((0, 1, 2), "seeds to run")
    model: Literal["mlp", "cnn"] = param("mlp", "backbone")
    act: str = param("relu", "activation", choices=("relu", "gelu"))
    dropout: float = param(0.1, "dropout rate", ge=0, lt=1)
    data: Path | None = param(None, "dataset path")
    name: str | None = param(None, "run name")
    train: Train = field(default_factory=Train)


PROFILES = {
    "smoke": Config(train=Train(steps=2)),
    "cpu": Config(),
    "paper": Config(model="cnn", train=Train(lr=1e-4, steps=100_000)),
}

if __name__ == "__main__":
    profile, cfg = parse(PROFILES, sys.argv[1:], prog="demo.reproduce")
    print(json.dumps({"profile": profile, "cfg": to_dict(cfg)}))
