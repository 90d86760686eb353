"""Entry point: ``python -m alans.reproduce --profile {smoke,cpu,paper} [--key value ...]``.

Runs Tier A (ground-truth attributes, every split x seed: ALANS, ALANS-Ind, MLP), Tier B
(pixels, one split: ALANS-lite with a perception warm-up, CNN-MLP, SCL) and answer generation;
judges the gates and claims of ``claims.py`` by the rule of ``reprokit.claims``; writes
``metrics.json`` (the ``reprokit.metrics/1`` document) and figures to ``--out`` (default
``projects/alans/results/<profile>``) and, for the cpu profile, ``projects/alans/RESULTS.md``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from reprokit.claims import MIN_SEEDS
from reprokit.config import ConfigError, parse, to_dict
from reprokit.report import console_summary, results_dir, write_results
from reprokit.runlog import Run

from . import reporting
from .claims import evidence
from .configs import PROFILES, Config
from .data import load_split
from .experiments import tier_a, tier_b
from .splits import SPLITS


def _check(cfg: Config) -> None:
    bad = [s for s in cfg.tier_a.splits if s not in SPLITS]
    if bad:
        raise ConfigError(
            f"--tier_a.splits: unknown split {bad[0]!r} (choose from {', '.join(SPLITS)})"
        )
    if not cfg.seeds or not cfg.tier_b.seeds:
        raise ConfigError("--seeds / --tier_b.seeds: at least one seed is required")
    if len(cfg.seeds) < MIN_SEEDS:
        raise ConfigError(
            f"--seeds: the verdict rule needs at least {MIN_SEEDS} Tier A seeds, "
            f"got {len(cfg.seeds)}"
        )


def _tier_a_split(cfg: Config, split: str, out: Path, run: Run, log, figures: dict) -> list[dict]:
    """Tier A on one split for every seed; the first seed also saves its backend and figures."""
    runs = []
    for seed in cfg.seeds:
        r = tier_a(cfg, split, seed, log)
        runs.append(r)
        if seed != cfg.seeds[0]:
            continue
        torch.save(r["alans_state"], run.dir / f"alans_tierA_{split}.pt")
        if split == cfg.tier_a.splits[0] and cfg.answer_generation:
            d = cfg.data
            test = load_split(split, "test", d.n_test, seed, d.config, d.answer_set == "iraven")
            figures[
                "Answer generation (Tier A ALANS, first split): 8 context panels, "
                "rendered decoded prediction, true answer"
            ] = reporting.answer_generation_figure(
                test, r["answer_generation"]["pred"], d.config, out / "answer_generation.png"
            )
            figures["A generated I-RAVEN problem (context, then candidates)"] = (
                reporting.problem_figure(test, d.config, out / "example_problem.png")
            )
    return runs


def main(cfg: Config, profile: str) -> dict:
    """Run every enabled experiment of ``cfg``; returns the ``reprokit.metrics/1`` document
    (also written to ``<out>/metrics.json``; RESULTS.md for the unmodified cpu profile)."""
    _check(cfg)
    t0 = time.time()
    out = results_dir("alans", profile, anchor=__file__, out=cfg.out)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    figures: dict[str, Path] = {}
    splits = tuple(cfg.tier_a.splits) if cfg.tier_a.enabled else ()
    config = {k: v for k, v in to_dict(cfg).items() if k != "out"}  # no machine paths
    with Run(
        "alans",
        profile,
        config=to_dict(cfg),
        seed=cfg.seeds[0],
        root=None if cfg.out is None else out / "runs",
    ) as run:
        log = lambda tag, step, v: run.log(step, {f"{tag}/loss": v})  # noqa: E731
        ra = {s: _tier_a_split(cfg, s, out, run, log, figures) for s in splits}
        t_a = time.time() - t0
        tb = cfg.tier_b
        rb = [tier_b(cfg, seed, device, log) for seed in tb.seeds] if tb.enabled else []
        ev = evidence(profile, cfg.seeds, ra, rb, tb.seeds, tb.split if rb else None)
        if splits:
            figures["Tier A accuracy (test solid, IID hatched; mean ± std over seeds)"] = (
                reporting.accuracy_bars(ev.metrics, splits, out / "tierA_accuracy.png")
            )
            figures["||M^k Z||_F after training (first seed)"] = reporting.value_norm_plot(
                {s: ra[s][0]["alans_value_norms"] for s in splits}, out / "value_norms.png"
            )
        info = {
            "config": config,
            "tier_b_seeds": list(tb.seeds) if rb else [],
            "alans_value_norms_first_seed": {s: ra[s][0]["alans_value_norms"] for s in splits},
            "timings_s": {"tier_a": t_a, "tier_b_and_report": time.time() - t0 - t_a},
        }
        wall = time.time() - t0
        doc = ev.to_dict(wall, info)
        run.finish(doc)
    metrics_path = ev.write(out / "metrics.json", wall, info=info)
    if profile == "cpu" and cfg.out is None:
        write_results(
            Path(__file__).resolve().parents[2] / "RESULTS.md",
            doc,
            title="ALANS — CPU-profile results",
            figures=figures,
            command="make reproduce PROJECT=alans",
            notes=reporting.notes(doc),
            metrics_path=metrics_path,
        )
    print(console_summary(doc))
    return doc


def cli(argv: list[str] | None = None) -> None:
    profile, cfg = parse(PROFILES, argv, prog="alans.reproduce")
    try:
        main(cfg, profile)
    except ConfigError as e:
        print(f"alans.reproduce: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    cli()
