"""Entry point: ``python -m lpt.reproduce --profile <profile> [--key value]``.

Profiles (``lpt.configs``): smoke, cpu (Maze2D-UMaze), cpu-halfcheetah, cpu-connect4,
cpu-maze2d-medium, paper (maze2d-umaze) and paper-<env>. ``cpu-full`` is a suite: it runs
cpu-halfcheetah, cpu-connect4 and cpu-maze2d-medium in turn with the same overrides.

Parses the profile and overrides first (so a bad flag fails in a fraction of a second, before
torch is imported), then runs :func:`lpt.experiment.run_experiment`. Examples::

    python -m lpt.reproduce --profile smoke
    python -m lpt.reproduce                       # cpu profile, writes results/cpu + RESULTS.md
    python -m lpt.reproduce --profile cpu-full    # the three second-tier environments
    python -m lpt.reproduce --profile paper-hopper --data.path hopper-medium-replay-v2.hdf5
    torchrun --nproc_per_node 8 -m lpt.reproduce --profile paper --data.path ...
"""

from __future__ import annotations

import sys

from lpt.configs import PROFILES, Config
from reprokit.config import parse

SUITES = {"cpu-full": ("cpu-halfcheetah", "cpu-connect4", "cpu-maze2d-medium")}


def main(cfg: Config, profile: str) -> dict:
    """Train every method for every seed, evaluate, write metrics (+ report); return metrics."""
    from lpt.experiment import run_experiment

    return run_experiment(cfg, profile)


def _suite_members(argv: list[str]) -> tuple[str, ...] | None:
    """The profiles of a suite named by ``--profile NAME`` / ``--profile=NAME``, if any."""
    for i, arg in enumerate(argv):
        name = argv[i + 1] if arg == "--profile" and i + 1 < len(argv) else None
        name = arg.split("=", 1)[1] if arg.startswith("--profile=") else name
        if name in SUITES:
            return SUITES[name]
    return None


def _with_profile(argv: list[str], profile: str) -> list[str]:
    rest, skip = [], False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg == "--profile":
            skip = i + 1 < len(argv)
        elif not arg.startswith("--profile="):
            rest.append(arg)
    return ["--profile", profile, *rest]


def cli(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    members = _suite_members(argv)
    runs = [_with_profile(argv, p) for p in members] if members else [argv]
    parsed = [parse(PROFILES, a, prog="lpt.reproduce") for a in runs]  # all flags checked first
    for profile, cfg in parsed:
        try:
            main(cfg, profile)
        except (ValueError, FileNotFoundError) as e:  # bad data file, unknown env, bad shapes
            print(f"lpt.reproduce: error: {' '.join(str(e).split())}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
