"""Entry point: ``python -m sketchgame.reproduce --profile {smoke,pilot,cpu,cpu-long,paper}``.

One unit per seed of the session ``<runs root>/sketchgame/<profile>/<config hash>/``: build the
seed's world (referents, frozen encoder, pretrained iconic sender; saved in the unit folder), train
each setting (resumable from its checkpoints), run the probes. Then the gates and claims of
``sketchgame.claims`` are judged and ``metrics.json``, figures and RESULTS.md are written where
``reprokit.lifecycle.report_target`` says. Rerun the same command to resume; ``--fresh`` restarts.
"""

from __future__ import annotations

from pathlib import Path

import torch
from sketchgame.claims import build_evidence
from sketchgame.configs import PROFILES, Config
from sketchgame.experiment import run_seed

from reprokit.config import parse, to_dict
from reprokit.errors import UserError
from reprokit.lifecycle import Session, entry, footer, header, report_target
from reprokit.report import write_results
from reprokit.runlog import Run
from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer

PROG = "sketchgame.reproduce"
EXPECTED = {
    "smoke": "~20 s",
    "pilot": "~5 min on 2 CPU cores",
    "cpu": "~15 min on 2 CPU cores",
    "cpu-long": "~60 min on 2 CPU cores",
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


def write_report(
    cfg: Config, profile: str, argv: list[str], session: Session, results: dict
) -> None:
    from sketchgame.figures import learning_curves, sketch_snapshots
    from sketchgame.notes import results_notes

    target = report_target("sketchgame", profile, cfg, PROFILES, __file__, session, out=cfg.out)
    seeds = list(cfg.seeds)
    names = sorted({k for r in results.values() for k in r["metrics"]})
    per_seed = {k: [results[s]["metrics"].get(k) for s in seeds] for k in names}
    ev = build_evidence(profile, per_seed, seeds)
    first = results[seeds[0]]
    snaps = "Sketches of each seen category over training (complete, first seed; rows: start → end)"
    curves = "Training accuracy and game length (running mean, mean ± std over seeds)"
    figures = {
        snaps: sketch_snapshots(first, target.dir / "sketches_over_training.png"),
        curves: learning_curves(results, cfg, target.dir / "learning_curves.png"),
    }
    wall = session.wall_time_s
    info = {
        "n_games": cfg.train.n_games,
        "batch_size": cfg.train.batch_size,
        "settings": list(cfg.settings),
    }
    info["per_seed_facts"] = {str(s): results[s]["facts"] for s in seeds}
    metrics_path = ev.write(target.dir / "metrics.json", wall, info)
    doc = ev.to_dict(wall, info)
    write_results(
        target.results_md,
        doc,
        title="sketchgame: CPU-profile results"
        if profile == "cpu"
        else f"sketchgame: {profile} profile",
        figures=figures,
        command="make reproduce PROJECT=sketchgame"
        if target.committed
        else " ".join([f"python -m {PROG}", *argv]),
        notes=results_notes(doc),
        metrics_path=metrics_path,
    )
    footer(session, doc, [target.results_md, metrics_path, *figures.values()], why=target.why)


if __name__ == "__main__":
    entry(PROG, run)
