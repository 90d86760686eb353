"""Entry point: ``python -m alans.reproduce --profile {smoke,cpu,cpu-grid,paper} [--key value]
[--fresh]``.

Runs Tier A (ground-truth attributes; one unit per split x seed: ALANS, ALANS-Ind, the
connectionist baselines), Tier A on a Grid configuration (``grid``; units
``tierA-<grid>-<split>-seed<s>``), Tier B (pixels, one split; one unit per seed: ALANS as the
paper trains it, the labelled supervised-perception variant when its warm-up is on, CNN-MLP,
SCL) and answer generation through ``reprokit.lifecycle``: every unit lives in the run folder
``<runs root>/alans/<profile>/<config hash>/units/<unit>/`` with its checkpoints, so rerunning
the same command after SIGTERM/SIGINT reuses the finished units and resumes the interrupted one.
Then the gates and claims of ``claims.py`` are judged and ``metrics.json``, the figures and
RESULTS.md go where ``report_target`` says (the committed ones only for the unmodified cpu
profile, and for the unmodified cpu-grid profile its ``grid_metrics.json`` and marked section).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from reprokit.cache import data_dir
from reprokit.config import parse, to_dict
from reprokit.errors import UserError
from reprokit.lifecycle import (
    ReportTarget,
    Session,
    check_device,
    entry,
    footer,
    header,
    report_target,
)
from reprokit.report import keep_sections, marked_section, merge_section, write_results
from reprokit.runlog import Run

from . import reporting
from .claims import BASELINES, GRIDS, evidence, strongest_baselines
from .configs import PROFILES, Config
from .data import load_split
from .experiments import on_grid, tier_a, tier_b
from .model import ALANS
from .raven import check_raven_dir
from .splits import SPLITS
from .starter import load_starter
from .train import Unit

PROG = "alans.reproduce"
DATA_NAMES = {
    "center": "Center",
    "grid2x2": "2x2 Grid",
    "grid3x3": "3x3 Grid",
    "iraven": "I-RAVEN",
    "raven": "RAVEN",
}
GRID_PROFILE = "cpu-grid"  # committed: results/cpu/grid_metrics.json + a RESULTS.md section
GRID_TAG = "grid"
EXPECTED = {
    "smoke": "~15 s",
    "cpu-grid": "~6 min on one core (one of two CPU slots of a shared machine)",
    "cpu": "~12 min on one core (one of two CPU slots of a shared machine)",
    "paper": "not measured (GPU; many hours)",
}


def _check_seeds(seeds: Sequence[int], option: str) -> None:
    dup = sorted({s for s in seeds if list(seeds).count(s) > 1})
    if dup:
        raise UserError(f"{option}: seed {dup[0]} is given twice (each seed is one unit)")


def _check_data_dir() -> None:
    """The generated-data cache folder (``$REPROKIT_DATA``) can be created."""
    try:
        data_dir()
    except OSError as e:
        raise UserError(
            f"data folder {e.filename} cannot be created ({e.strerror}); set REPROKIT_DATA"
        ) from None


def preflight(cfg: Config) -> torch.device:
    """Every check that can fail before the first training step; returns the Tier B device."""
    for option, splits in (
        ("--tier_a.splits", cfg.tier_a.splits),
        ("--grid.splits", cfg.grid.splits),
    ):
        bad = [s for s in splits if s not in SPLITS]
        if bad:
            raise UserError(f"{option}: unknown split {bad[0]!r} (choose from {', '.join(SPLITS)})")
    bad = [b for b in cfg.tier_a.baselines if b not in BASELINES]
    if bad:
        raise UserError(
            f"--tier_a.baselines: unknown baseline {bad[0]!r} (choose from {', '.join(BASELINES)})"
        )
    if not (cfg.tier_a.enabled or cfg.grid.enabled or cfg.tier_b.enabled):
        raise UserError(
            "--tier_a.enabled, --grid.enabled and --tier_b.enabled are all false: nothing to run"
        )
    _check_seeds(cfg.seeds, "--seeds")
    dup = sorted({b for b in cfg.tier_a.baselines if cfg.tier_a.baselines.count(b) > 1})
    if dup:
        raise UserError(f"--tier_a.baselines: {dup[0]!r} is given twice")
    _check_seeds(cfg.tier_b.seeds, "--tier_b.seeds")
    b = cfg.tier_b
    if b.enabled and b.warmup_problems > b.n_train:
        raise UserError(
            f"--tier_b.warmup_problems {b.warmup_problems} exceeds --tier_b.n_train {b.n_train}"
        )
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", cfg.device):
        raise UserError(f"--device {cfg.device!r}: use auto, cpu, cuda, cuda:N or mps")
    _check_data_dir()
    raven_dir = getattr(cfg.data, "raven_dir", None)  # the paper profile's real RAVEN files
    if raven_dir is not None and b.enabled:
        check_raven_dir(raven_dir, cfg.data.config)
    starter = getattr(b, "starter", None)  # the paper profile's official starter checkpoint
    if starter is not None and b.enabled:
        if not b.paper_setting:
            raise UserError("--tier_b.starter is the start of --tier_b.paper_setting true only")
        load_starter(ALANS(cfg.alans.hyper()), starter)  # a file that does not fit: one line
    return torch.device(check_device(cfg.device))


def _unit(session: Session, profile: str, cfg: Config, name: str, seed: int, work) -> dict:
    """``work(Unit)`` as the resumable lifecycle unit ``name`` (with its own run log)."""

    def compute(folder: Path) -> dict:
        with Run("alans", profile, config=to_dict(cfg), seed=seed, folder=folder) as run:
            return work(Unit(name, folder, session, run, to_dict(cfg), cfg.ckpt_every))

    return session.unit(name, compute)


def _tier_a_units(
    session: Session, profile: str, cfg: Config, run_cfg: Config, splits: tuple, prefix: str
) -> dict[str, list[dict]]:
    """Tier A on each split and seed of ``run_cfg`` (Center or a Grid), one unit per pair."""
    return {
        s: [
            _unit(
                session,
                profile,
                cfg,
                f"{prefix}-{s}-seed{seed}",
                seed,
                lambda u, s=s, seed=seed: tier_a(run_cfg, s, seed, u),
            )
            for seed in cfg.seeds
        ]
        for s in splits
    }


def _figures(
    cfg: Config, ra: Mapping[str, list[dict]], metrics: dict, out: Path
) -> dict[str, Path]:
    """The figures of the report (Tier A accuracies, value norms, answer generation)."""
    splits, d = tuple(ra), cfg.data
    if not splits:
        return {}
    data = f"{DATA_NAMES[d.config]}, {DATA_NAMES[d.answer_set]} answer sets"
    figures = {
        "Tier A accuracy (test solid, IID hatched; mean ± std over seeds)": (
            reporting.accuracy_bars(metrics, splits, out / "tierA_accuracy.png", data)
        ),
        "||M^k Z||_F after training (first seed)": reporting.value_norm_plot(
            {s: ra[s][0]["alans_value_norms"] for s in splits}, out / "value_norms.png"
        ),
    }
    if cfg.answer_generation:
        first = splits[0]
        test = load_split(first, "test", d.n_test, cfg.seeds[0], d.config, d.answer_set == "iraven")
        pred = ra[first][0]["answer_generation"]["pred"]
        figures[
            "Answer generation (Tier A ALANS, first split): 8 context panels, "
            "rendered decoded prediction, true answer"
        ] = reporting.answer_generation_figure(test, pred, d.config, out / "answer_generation.png")
        figures["A generated I-RAVEN problem (context, then candidates)"] = (
            reporting.problem_figure(test, d.config, out / "example_problem.png")
        )
    return figures


def _portable(config: dict) -> dict:
    """The config without machine paths: no ``out``; ``data.raven_dir`` and
    ``tier_b.starter`` (paper profile) as their last path component."""
    out = {k: v for k, v in config.items() if k != "out"}
    for part, key in (("data", "raven_dir"), ("tier_b", "starter")):
        if out[part].get(key) is not None:
            out[part] = {**out[part], key: Path(out[part][key]).name}
    return out


def _with_profile(argv: list[str], profile: str) -> list[str]:
    """``argv`` with ``--profile`` spelled out (the command line shown in RESULTS.md)."""
    given = any(a == "--profile" or a.startswith("--profile=") for a in argv)
    return argv if given else ["--profile", profile, *argv]


def _report(
    cfg: Config,
    profile: str,
    runs: tuple[dict, dict, list],
    target: ReportTarget,
    wall: float,
    argv: list,
) -> tuple[dict, list[Path]]:
    """Judge the evidence of ``runs`` (Tier A, Tier A on the Grid, Tier B); write
    metrics.json, the figures and RESULTS.md into ``target`` (its command line: ``make
    reproduce`` for the committed results, else ``argv``)."""
    ra, rg, rb = runs
    tb, grid = cfg.tier_b, cfg.grid.config if rg else None
    baselines = cfg.tier_a.baselines
    ev = evidence(
        profile, cfg.seeds, ra, rb, tb.seeds, tb.split if rb else None, baselines, grid, rg
    )
    splits = tuple(ra)
    info = {
        "strongest": strongest_baselines(ev, splits, baselines),
        "grid": {
            "config": grid,
            "strongest": strongest_baselines(ev, tuple(rg), baselines, grid) if grid else {},
        },
        "baseline_lr": {s: {b: [r[f"{b}_lr"] for r in ra[s]] for b in baselines} for s in splits},
        "grid_baseline_lr": {s: {b: [r[f"{b}_lr"] for r in rg[s]] for b in baselines} for s in rg},
        "config": _portable(to_dict(cfg)),
        "tier_b_seeds": list(tb.seeds) if rb else [],
        "alans_value_norms_first_seed": {s: ra[s][0]["alans_value_norms"] for s in splits},
    }
    figures = _figures(cfg, ra, ev.metrics, target.dir)
    side = target.committed and profile == GRID_PROFILE  # its own files, a RESULTS.md section
    prefix = f"{GRID_TAG}_" if side else ""
    metrics_path = ev.write(target.dir / f"{prefix}metrics.json", wall, info=info)
    doc = ev.to_dict(wall, info)
    command = shlex.join(["python", "-m", PROG, *_with_profile(argv, profile)])
    if target.committed:
        command = "make reproduce PROJECT=alans" + (f" PROFILE={GRID_PROFILE}" if side else "")
    kept = [marked_section(target.results_md, GRID_TAG)] if target.committed and not side else []
    report_md = target.results_md.with_name(f".{GRID_TAG}_section.md") if side else None
    write_results(
        report_md or target.results_md,
        doc,
        title=f"ALANS — {'CPU' if profile == 'cpu' else profile}-profile results",
        figures=figures,
        command=command,
        notes=reporting.notes(doc),
        metrics_path=metrics_path,
    )
    if report_md is not None:
        heading = f"{GRID_PROFILE} profile: Tier A on the {GRIDS[cfg.grid.config]} (`{command}`)"
        merge_section(target.results_md, report_md, heading, GRID_TAG)
    keep_sections(target.results_md, kept)
    return doc, [target.results_md, Path(metrics_path), *figures.values()]


def _report_target(profile: str, cfg: Config, session: Session) -> ReportTarget:
    """``report_target``; the unmodified cpu-grid profile also writes the committed
    results/cpu/ (its own ``grid_metrics.json`` and a marked section of RESULTS.md, which a
    cpu run keeps), like the cpu profile."""
    if profile == GRID_PROFILE:
        profiles = {"cpu": PROFILES[GRID_PROFILE]}  # committed when cfg equals cpu-grid
        return report_target("alans", "cpu", cfg, profiles, __file__, session, out=cfg.out)
    return report_target("alans", profile, cfg, PROFILES, __file__, session, out=cfg.out)


def run(argv: list[str], fresh: bool) -> None:
    """Parse, check, run every unit (reusing finished ones), judge and report."""
    profile, cfg = parse(PROFILES, argv, prog=PROG)
    device = preflight(cfg)
    splits = tuple(cfg.tier_a.splits) if cfg.tier_a.enabled else ()
    g = cfg.grid
    grid_splits = tuple(g.splits) if g.enabled else ()
    b_seeds = tuple(cfg.tier_b.seeds) if cfg.tier_b.enabled else ()
    with Session("alans", profile, cfg, fresh=fresh) as session:
        header(
            session,
            expected=EXPECTED[profile],
            tier_a_seeds=cfg.seeds if splits or grid_splits else "off",
            tier_a_splits=splits or "off",
            tier_a_models=("alans", "alans_ind", *cfg.tier_a.baselines),
            grid=f"{g.config}, splits {grid_splits}" if grid_splits else "off",
            tier_b=f"{cfg.tier_b.split}, seeds {b_seeds}, on {device}" if b_seeds else "off",
        )
        ra = _tier_a_units(session, profile, cfg, cfg, splits, "tierA")
        rg = _tier_a_units(session, profile, cfg, on_grid(cfg), grid_splits, f"tierA-{g.config}")
        rb = [
            _unit(
                session,
                profile,
                cfg,
                f"tierB-seed{seed}",
                seed,
                lambda u, seed=seed: tier_b(cfg, seed, device, u),
            )
            for seed in b_seeds
        ]
        target = _report_target(profile, cfg, session)
        doc, written = _report(cfg, profile, (ra, rg, rb), target, session.wall_time_s, argv)
        footer(session, doc, written, why=target.why)


if __name__ == "__main__":
    entry(PROG, run)
