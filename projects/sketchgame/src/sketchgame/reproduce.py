"""Entry point: ``python -m sketchgame.reproduce --profile {smoke,pilot,cpu,cpu-long,paper}``.

One unit per seed of the session ``<runs root>/sketchgame/<profile>/<config hash>/``: build the
seed's world (referents, frozen encoder, pretrained iconic sender; saved in the unit folder), train
each setting (resumable from its checkpoints), run the probes. Then the gates and claims of
``sketchgame.claims`` are judged and ``metrics.json``, figures and RESULTS.md are written where
``reprokit.lifecycle.report_target`` says. Rerun the same command to resume; ``--fresh`` restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from sketchgame.claims import build_evidence
from sketchgame.configs import PROFILES, Config
from sketchgame.experiment import run_seed

from reprokit.config import parse, to_dict
from reprokit.errors import UserError
from reprokit.lifecycle import ReportTarget, Session, entry, footer, header, report_target
from reprokit.report import keep_sections, marked_section, merge_section, write_results
from reprokit.runlog import Run
from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer

PROG = "sketchgame.reproduce"
LONG = "cpu-long"  # writes results/cpu/long_* and a marked section (tag LONG) of RESULTS.md
EXPECTED = {
    "smoke": "~20 s",
    "pilot": "~4-7 min on 2 CPU cores",
    "cpu": "~10 min on 2 CPU cores",
    "cpu-long": "~50 min on 2 CPU cores",
    "paper": "days on a GPU",
}


def preflight(cfg: Config) -> None:
    """Cross-field checks, before the first step (one-line UserError)."""
    from sketchgame.referents import GAME_SHAPES, N_MODIFIER_STROKES

    g, d, tr = cfg.game, cfg.data, cfg.train
    bad = [s for s in d.heldout_shapes if s not in GAME_SHAPES]
    if bad:
        raise UserError(
            f"--data.heldout_shapes: unknown shape {bad[0]!r} "
            f"(choose from {', '.join(GAME_SHAPES)})"
        )
    if len(GAME_SHAPES) - len(set(d.heldout_shapes)) < 2 or len(set(d.heldout_shapes)) < 1:
        raise UserError(
            "--data.heldout_shapes: hold out at least 1 and leave at least 2 base shapes"
        )
    if g.size % 8:
        raise UserError(f"--game.size: must be a multiple of 8, got {g.size}")
    if g.strokes_per_step * g.max_step <= N_MODIFIER_STROKES:
        raise UserError(
            f"strokes_per_step × max_step must exceed the {N_MODIFIER_STROKES} modifier strokes, "
            f"got {g.strokes_per_step * g.max_step}"
        )
    n_outline = g.strokes_per_step * g.max_step - N_MODIFIER_STROKES
    if d.modifiers_after > n_outline:
        raise UserError(
            f"--data.modifiers_after: at most the {n_outline} outline strokes, "
            f"got {d.modifiers_after}"
        )
    if tr.warmup_games > max(1, tr.n_games // 5):
        raise UserError(
            f"--train.warmup_games: at most 20% of n_games ({tr.n_games // 5}), "
            f"got {tr.warmup_games}"
        )
    if cfg.eval.symbolicity_shots >= d.n_train_instances:
        raise UserError("--eval.symbolicity_shots: must be below data.n_train_instances")
    if len(set(cfg.settings)) != len(cfg.settings):
        raise UserError("--settings: each setting at most once")
    if "complete" not in cfg.settings or "senderfixed" not in cfg.settings:
        raise UserError("--settings: the claims need both 'complete' and 'senderfixed'")


def seed_unit(cfg: Config, seed: int, folder: Path, session: Session) -> dict:
    seed_everything(seed, torch=True)
    with Run("sketchgame", session.profile, to_dict(cfg), seed=seed, folder=folder) as run:

        def checkpointer(setting: str) -> Checkpointer:
            return Checkpointer(
                folder / "checkpoints" / setting, every=cfg.train.ckpt_every, config=to_dict(cfg)
            )

        out = run_seed(cfg, seed, folder, checkpointer, run.log, session.boundary, run.progress)
        run.finish(out["metrics"])
    return out


def run(argv: list[str], fresh: bool) -> None:
    profile, cfg = parse(PROFILES, argv, prog=PROG)
    preflight(cfg)
    torch.set_flush_denormal(True)
    with Session("sketchgame", profile, cfg, fresh=fresh) as session:
        header(
            session,
            expected=EXPECTED.get(profile),
            seeds=cfg.seeds,
            settings=cfg.settings,
            games=cfg.train.n_games,
        )
        results = {
            s: session.unit(f"seed{s}", lambda d, s=s: seed_unit(cfg, s, d, session))
            for s in cfg.seeds
        }
        write_report(cfg, profile, argv, session, results)


def report_place(profile: str, cfg: Config, session: Session) -> ReportTarget:
    """``report_target``; the unmodified cpu-long profile also writes the committed results/cpu/
    (its own ``long_*`` files and a marked section of RESULTS.md), like the cpu profile."""
    if profile == LONG:
        profiles = {"cpu": PROFILES[LONG]}  # committed when cfg equals the cpu-long profile
        return report_target("sketchgame", "cpu", cfg, profiles, __file__, session, out=cfg.out)
    return report_target("sketchgame", profile, cfg, PROFILES, __file__, session, out=cfg.out)


def write_sections(results_md: Path, long: bool, write: Callable[[Path], None]) -> None:
    """Write a report with ``write(path)``: a cpu-long report becomes the marked ``LONG`` section
    of ``results_md`` (an earlier one replaced); any other report rewrites ``results_md`` and
    keeps the ``LONG`` section it had."""
    kept = [] if long else [marked_section(results_md, LONG)]
    report_md = results_md.with_name(".long_section.md") if long else results_md
    write(report_md)
    if long:
        heading = f"{LONG} profile (`make reproduce PROJECT=sketchgame PROFILE={LONG}`)"
        merge_section(results_md, report_md, heading, LONG)
    keep_sections(results_md, kept)


def forced_by_step(cfg: Config, result: dict) -> dict[str, float]:
    """``<setting>_forced_step<t>``: accuracy with the guess forced at step t (official
    ``eval_by_step``), from the per-step arrays stored in a seed's unit."""
    return {
        f"{setting}_forced_step{t + 1}": float(v)
        for setting in cfg.settings
        for t, v in enumerate(result[f"{setting}_forced"])
    }


def write_report(
    cfg: Config, profile: str, argv: list[str], session: Session, results: dict
) -> None:
    from sketchgame.figures import learning_curves, sketch_snapshots
    from sketchgame.notes import results_notes

    target = report_place(profile, cfg, session)
    long = target.committed and profile == LONG
    prefix = "long_" if long else ""
    seeds = list(cfg.seeds)
    metrics = {s: results[s]["metrics"] | forced_by_step(cfg, results[s]) for s in seeds}
    names = sorted({k for m in metrics.values() for k in m})
    per_seed = {k: [metrics[s].get(k) for s in seeds] for k in names}
    ev = build_evidence(profile, per_seed, seeds)
    first = results[seeds[0]]
    snaps = "Sketches of each seen category over training (complete, first seed; rows: start → end)"
    curves = "Training accuracy and game length (running mean, mean ± std over seeds)"
    figures = {
        snaps: sketch_snapshots(first, target.dir / f"{prefix}sketches_over_training.png"),
        curves: learning_curves(results, cfg, target.dir / f"{prefix}learning_curves.png"),
    }
    wall = session.wall_time_s
    info = {
        "n_games": cfg.train.n_games,
        "batch_size": cfg.train.batch_size,
        "settings": list(cfg.settings),
    }
    info["per_seed_facts"] = {str(s): results[s]["facts"] for s in seeds}
    metrics_path = ev.write(target.dir / f"{prefix}metrics.json", wall, info)
    doc = ev.to_dict(wall, info)
    command = " ".join([f"python -m {PROG}", *argv])
    if target.committed:
        command = "make reproduce PROJECT=sketchgame" + (f" PROFILE={LONG}" if long else "")
    title = "sketchgame: CPU-profile results" if profile == "cpu" else f"sketchgame: {profile}"

    def write(path: Path) -> None:
        write_results(
            path,
            doc,
            title=title,
            figures=figures,
            command=command,
            notes=results_notes(doc),
            metrics_path=metrics_path,
        )

    if target.committed:
        write_sections(target.results_md, long, write)
    else:
        write(target.results_md)
    footer(session, doc, [target.results_md, metrics_path, *figures.values()], why=target.why)


if __name__ == "__main__":
    entry(PROG, run)
