"""Entry point: ``python -m alans.reproduce --profile {smoke,cpu,paper} [--key value ...]``.

Runs Tier A (ground-truth attributes, every split x seed: ALANS, ALANS-Ind, MLP), Tier B
(pixels, one split: ALANS-lite with a perception warm-up, CNN-MLP, SCL) and answer generation;
writes ``metrics.json`` and figures to ``--out`` (default ``projects/alans/results/<profile>``)
and, for the cpu profile, ``projects/alans/RESULTS.md``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from reprokit.config import ConfigError, parse, to_dict
from reprokit.report import results_dir, summarize, write_metrics, write_results
from reprokit.runlog import Run

from . import reporting
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


def main(cfg: Config, profile: str) -> dict:
    """Run every enabled experiment of ``cfg``; returns the metrics dict (also written to disk)."""
    _check(cfg)
    t0 = time.time()
    out = Path(cfg.out) if cfg.out is not None else results_dir("alans", profile, anchor=__file__)
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    metrics: dict = {}
    figures: dict[str, Path] = {}
    splits = tuple(cfg.tier_a.splits) if cfg.tier_a.enabled else ()
    with Run(
        "alans",
        profile,
        config=to_dict(cfg),
        seed=cfg.seeds[0],
        root=None if cfg.out is None else out / "runs",
    ) as run:
        log = lambda tag, step, v: run.log(step, {f"{tag}/loss": v})  # noqa: E731
        per: dict[str, dict[str, list]] = {}
        ag_attr, ag_all = [], []
        for s in splits:
            per[s] = {}
            for seed in cfg.seeds:
                r = tier_a(cfg, s, seed, log)
                for k, v in r.items():
                    if isinstance(v, float):
                        per[s].setdefault(k, []).append(v)
                ag_attr.append(r["answer_generation"]["attr_acc"])
                ag_all.append(r["answer_generation"]["all_acc"])
                if seed == cfg.seeds[0]:
                    metrics[f"tierA_{s}_alans_value_norms"] = r["alans_value_norms"]
                    if s == splits[0] and cfg.answer_generation:
                        test = load_split(
                            s,
                            "test",
                            cfg.data.n_test,
                            seed,
                            cfg.data.config,
                            cfg.data.answer_set == "iraven",
                        )
                        figures[
                            "Answer generation (Tier A ALANS, first split): 8 context panels, "
                            "rendered decoded prediction, true answer"
                        ] = reporting.answer_generation_figure(
                            test,
                            r["answer_generation"]["pred"],
                            cfg.data.config,
                            out / "answer_generation.png",
                        )
                        figures["A generated I-RAVEN problem (context, then candidates)"] = (
                            reporting.problem_figure(
                                test, cfg.data.config, out / "example_problem.png"
                            )
                        )
                    torch.save(r["alans_state"], run.dir / f"alans_tierA_{s}.pt")
            for k, vals in per[s].items():
                key = f"tierA_{s}_{k.replace('_test_acc', '_acc')}"
                st = summarize(vals)
                metrics[key] = st["mean"]
                metrics[f"{key}_std"] = st["std"]
                metrics[f"{key}_seeds"] = st["values"]
        if splits:
            metrics["answer_generation_attr_acc"] = float(np.mean(ag_attr))
            metrics["answer_generation_all_attr_acc"] = float(np.mean(ag_all))
            figures["Tier A accuracy (test solid, IID hatched; mean ± std over seeds)"] = (
                reporting.accuracy_bars(metrics, splits, out / "tierA_accuracy.png")
            )
            figures["||M^k Z||_F after training (seed 0)"] = reporting.value_norm_plot(
                {s: metrics[f"tierA_{s}_alans_value_norms"] for s in splits},
                out / "value_norms.png",
            )
        tb_split = None
        if cfg.tier_b.enabled:
            tb_split = cfg.tier_b.split
            rb = [tier_b(cfg, seed, device, log) for seed in cfg.tier_b.seeds]
            for k in rb[0]:
                if isinstance(rb[0][k], float):
                    key = f"tierB_{tb_split}_{k.replace('_test_acc', '_acc')}"
                    metrics[key] = float(np.mean([r[k] for r in rb]))
                    metrics[f"{key}_seeds"] = [r[k] for r in rb]
            for stage, tag in (("perception_acc_warmup", "warmup_"), ("perception_acc", "")):
                for a, v in rb[0][stage].items():
                    metrics[f"tierB_{tb_split}_perception_{tag}{a}_acc"] = v
        metrics["wall_time_s"] = time.time() - t0
        run.finish({k: v for k, v in metrics.items() if isinstance(v, float)})
    write_metrics(out / "metrics.json", metrics)
    if profile == "cpu" and cfg.out is None:
        write_results(
            Path(__file__).resolve().parents[2] / "RESULTS.md",
            title="ALANS — CPU-profile results",
            claims=reporting.claims(metrics, splits, tb_split),
            figures=figures,
            wall_time_s=metrics["wall_time_s"],
            command="make reproduce PROJECT=alans",
            profile=profile,
            seeds=list(cfg.seeds),
            notes=reporting.notes(metrics, splits, tb_split, cfg),
            metrics_path=out / "metrics.json",
        )
    return metrics


def cli(argv: list[str] | None = None) -> None:
    profile, cfg = parse(PROFILES, argv, prog="alans.reproduce")
    try:
        main(cfg, profile)
    except ConfigError as e:
        print(f"alans.reproduce: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    cli()
