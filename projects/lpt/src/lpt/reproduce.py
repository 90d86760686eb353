"""Entry point: ``python -m lpt.reproduce --profile {smoke,cpu,cpu-full,paper} [--key value]``.

Parses the profile and overrides first (so a bad flag fails in a fraction of a second, before
torch is imported), then runs :func:`lpt.experiment.run_experiment`. Examples::

    python -m lpt.reproduce --profile smoke
    python -m lpt.reproduce                       # cpu profile, writes results/cpu + RESULTS.md
    python -m lpt.reproduce --profile paper --data.path maze2d-umaze-v1.hdf5
    torchrun --nproc_per_node 8 -m lpt.reproduce --profile paper --data.path ...
"""

from __future__ import annotations

import sys

from lpt.configs import PROFILES, Config
from reprokit.config import parse


def main(cfg: Config, profile: str) -> dict:
    """Train every method for every seed, evaluate, write metrics (+ report); return metrics."""
    from lpt.experiment import run_experiment

    return run_experiment(cfg, profile)


def cli(argv: list[str] | None = None) -> int:
    profile, cfg = parse(PROFILES, argv, prog="lpt.reproduce")
    try:
        main(cfg, profile)
    except (ValueError, FileNotFoundError) as e:  # bad data file, unknown env, bad shapes
        print(f"lpt.reproduce: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
