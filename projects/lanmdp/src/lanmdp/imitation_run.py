"""The MuJoCo half of ``lanmdp.reproduce`` (profiles ``*-mujoco``): per-seed units, the report.

Units (``reprokit.lifecycle``; a rerun reuses finished ones, ``--fresh`` starts over), per seed:
``references`` (expert, random, zero torque, BC on true actions), ``bco``, ``lanmdp`` and, with
``wrong_method``, ``lanmdp_uniform``. The unmodified ``cpu-mujoco`` profile writes the
committed ``results/cpu/mujoco_metrics.json`` and the ``mujoco`` section of RESULTS.md (the
cubic ``cpu`` profile's report is left as it is); any other run writes where
``report_target`` says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lanmdp import imitation
from lanmdp.configs import PROFILES, ImitationConfig
from lanmdp.imitation_claims import build_evidence
from lanmdp.notes import imitation_notes
from reprokit.config import to_dict
from reprokit.errors import UserError
from reprokit.lifecycle import ReportTarget, Session, footer, header, report_target
from reprokit.report import merge_section, write_results
from reprokit.runlog import Run
from reprokit.seeding import seed_everything

MUJOCO = "mujoco"  # tag of the committed files: results/cpu/mujoco_*, the RESULTS.md section
COMMITTED = "cpu-mujoco"


def preflight(cfg: ImitationConfig) -> None:
    """Cross-field checks before the first step."""
    if len(set(cfg.seeds)) != len(cfg.seeds):
        raise UserError(f"--seeds: repeated seed in {list(cfg.seeds)}")
    if cfg.policy.eta_min > cfg.policy.eta_max:
        raise UserError(
            f"--policy.eta_min {cfg.policy.eta_min} exceeds --policy.eta_max {cfg.policy.eta_max}"
        )


def seed_units(cfg: ImitationConfig, seed: int, profile: str) -> dict[str, Callable]:
    """The units of one seed: name → compute(folder) → ``{metric: value}``."""
    config = to_dict(cfg)

    def unit(offset: int, work: Callable[[Callable], dict]) -> Callable[[Path], dict]:
        def compute(folder: Path) -> dict:
            seed_everything(seed + offset, torch=True)
            with Run("lanmdp", profile, config, seed=seed, folder=folder) as run:
                return work(run.progress)

        return compute

    units = {
        "references": unit(0, lambda _: imitation.references(cfg, seed)),
        "bco": unit(1, lambda pr: imitation.bco(cfg, seed, pr)),
        "lanmdp": unit(2, lambda pr: imitation.lanmdp(cfg, seed, False, pr)),
    }
    if cfg.wrong_method:
        units["lanmdp_uniform"] = unit(3, lambda pr: imitation.lanmdp(cfg, seed, True, pr))
    return units


def run_units(cfg: ImitationConfig, session: Session, profile: str) -> dict[str, list[float]]:
    """Every unit, seed by seed; ``{metric: one value per seed}``."""
    per_seed: dict[str, list[float]] = {}
    for seed in cfg.seeds:
        for name, compute in seed_units(cfg, seed, profile).items():
            for metric, value in session.unit(f"{name}_seed{seed}", compute).items():
                per_seed.setdefault(metric, []).append(value)
    return per_seed


def place(profile: str, cfg: ImitationConfig, session: Session) -> ReportTarget:
    """The unmodified cpu-mujoco profile writes the committed results/cpu/ (its own files)."""
    if profile == COMMITTED:
        committed = {"cpu": PROFILES[COMMITTED]}
        return report_target("lanmdp", "cpu", cfg, committed, __file__, session, out=cfg.out)
    return report_target("lanmdp", profile, cfg, PROFILES, __file__, session, out=cfg.out)


def write_report(
    cfg: ImitationConfig, profile: str, argv: list[str], session: Session, per_seed: dict
) -> None:
    """Judge; metrics.json and RESULTS.md (a marked section when committed)."""
    target = place(profile, cfg, session)
    ev = build_evidence(profile, cfg.seeds, per_seed)
    wall = session.wall_time_s
    info = {
        "task": "Reacher-v5 state-only imitation, scripted IK+PD expert",
        "interaction_transitions": 50
        * (cfg.task.random_episodes + (cfg.task.rounds - 1) * cfg.task.episodes_per_round),
        "config": {k: v for k, v in to_dict(cfg).items() if k != "out"},
    }
    prefix = f"{MUJOCO}_" if target.committed else ""
    metrics_path = ev.write(target.dir / f"{prefix}metrics.json", wall, info)
    doc = ev.to_dict(wall, info)
    command = " ".join(["python -m lanmdp.reproduce", *argv])
    if target.committed:
        command = f"make reproduce PROJECT=lanmdp PROFILE={COMMITTED}"
    report_md = target.results_md.with_name(".mujoco_section.md") if target.committed else None
    write_results(
        report_md or target.results_md,
        doc,
        title=f"lanmdp: {profile} profile (Reacher-v5, LanMDP vs BCO)",
        command=command,
        notes=imitation_notes(doc),
        metrics_path=metrics_path,
    )
    if report_md is not None:
        heading = (
            f"MuJoCo state-only imitation (`make reproduce PROJECT=lanmdp PROFILE={COMMITTED}`)"
        )
        merge_section(target.results_md, report_md, heading, MUJOCO)
    footer(session, doc, [target.results_md, metrics_path], why=target.why)


def run(cfg: ImitationConfig, profile: str, argv: list[str], fresh: bool, expected: str) -> None:
    """The MuJoCo experiment under the lifecycle: preflight, the units, the report."""
    preflight(cfg)
    with Session("lanmdp", profile, cfg, fresh=fresh) as session:
        header(
            session,
            expected=expected,
            seeds=cfg.seeds,
            env="Reacher-v5",
            rounds=cfg.task.rounds,
            policy_iterations=cfg.task.rounds * cfg.policy.iterations,
            wrong_method="on" if cfg.wrong_method else "off",
        )
        per_seed = run_units(cfg, session, profile)
        write_report(cfg, profile, argv, session, per_seed)
