"""Entry point: ``python -m lpt.reproduce --profile <profile> [--key value]``.

Profiles (``lpt.configs``): smoke, cpu (Maze2D-UMaze), cpu-halfcheetah, cpu-connect4,
cpu-maze2d-medium, paper (maze2d-umaze) and paper-<env>. ``cpu-full`` is a suite: it runs
cpu-halfcheetah, cpu-connect4 and cpu-maze2d-medium in turn with the same overrides.

Runs under ``reprokit.lifecycle``: each profile is a session ``<runs root>/lpt/<profile>/<config
hash>/`` (runs root: ``$REPROKIT_RUNS`` or ``./runs``) with one unit per seed (every method trained
and evaluated; checkpoints in the unit folder). Rerunning the same command reuses finished seeds
and resumes an interrupted one from its checkpoints (a suite: per environment and seed);
``--fresh`` starts over; SIGTERM / Ctrl-C stop at the next training step with a checkpoint. Only
an unmodified cpu / cpu-<env> profile writes the committed results/cpu and RESULTS.md; a run with
overrides writes its report into its session folder (``--out DIR``: there).

Parses the profile and overrides first (so a bad flag fails in a fraction of a second, before
torch is imported), then runs :func:`lpt.experiment.run_experiment`. Examples::

    python -m lpt.reproduce --profile smoke
    python -m lpt.reproduce                       # cpu profile, writes results/cpu + RESULTS.md
    python -m lpt.reproduce --fresh               # the same, ignoring earlier (partial) runs
    python -m lpt.reproduce --profile cpu-full    # the three second-tier environments
    python -m lpt.reproduce --profile paper-hopper --data.path hopper-medium-replay-v2.hdf5
    torchrun --nproc_per_node 8 -m lpt.reproduce --profile paper --data.path ...
"""

from __future__ import annotations

import os

from lpt.configs import PROFILES, Config
from reprokit.config import parse

PROG = "lpt.reproduce"
SUITES = {"cpu-full": ("cpu-halfcheetah", "cpu-connect4", "cpu-maze2d-medium")}


def main(cfg: Config, profile: str, fresh: bool = False) -> dict:
    """One profile as a session: every seed a unit, then the report; return the metrics doc."""
    from lpt.experiment import run_experiment
    from reprokit.distributed import init_distributed
    from reprokit.lifecycle import Session
    from reprokit.runlog import runs_root

    info = init_distributed(device="cpu" if cfg.device == "cpu" else None)
    root = runs_root() if info.rank == 0 else runs_root() / ".ranks" / str(info.rank)
    with Session("lpt", profile, cfg, fresh=fresh, root=root) as session:
        return run_experiment(cfg, profile, session, info)


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


def run(argv: list[str], fresh: bool) -> None:
    """Every profile of the command (a suite: its members in turn, all flags checked first)."""
    os.environ.setdefault("MUJOCO_GL", "disable")
    members = _suite_members(argv)
    runs = [_with_profile(argv, p) for p in members] if members else [argv]
    parsed = [parse(PROFILES, a, prog=PROG) for a in runs]
    for profile, cfg in parsed:
        main(cfg, profile, fresh)


if __name__ == "__main__":
    from reprokit.lifecycle import entry

    entry(PROG, run)
