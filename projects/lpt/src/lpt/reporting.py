"""Figures and the RESULTS.md claim table from the metrics of one ``reproduce`` run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lpt.configs import Config
from reprokit import plots
from reprokit.report import Claim, format_mean_std, write_results

PAPERS = {
    # paper Table 2 (maze2d-umaze, D4RL, 5 seeds) and Table 9 (no-UNet ablation)
    "maze2d_umaze": {
        "lpt": "65.43 ± 2.91",
        "lpt_ei": "70.57 ± 1.39",
        "dt": "31.0 ± 21.3 (final-return DT)",
        "where": "maze2d-umaze, D4RL",
    },
    # paper Table 1 (halfcheetah-medium-replay, D4RL, 5 seeds; the closest mixed-quality set)
    "halfcheetah": {
        "lpt": "39.64 ± 0.83",
        "lpt_ei": "40.66 ± 0.12",
        "dt": "33.0 (final-return DT)",
        "where": "halfcheetah-medium-replay, D4RL",
    },
}
SECTION_START, SECTION_END = "<!-- halfcheetah:start -->", "<!-- halfcheetah:end -->"


def _fmt(metrics: dict, key: str) -> str:
    stats = metrics.get(f"{key}_stats")
    return format_mean_std(stats) if stats and stats["n"] else "not run"


def claims(metrics: dict, tag: str) -> list[Claim]:
    """Claims (a)-(d) of the issue; (b) only when the no-UNet ablation was run."""
    PAPER = PAPERS.get(tag, PAPERS["maze2d_umaze"])

    def m(name: str) -> float:
        return metrics.get(f"{tag}_{name}_score", float("nan"))

    lpt, ei, dt, bc, nou = m("lpt"), m("lpt_ei"), m("dt"), m("bc"), m("lpt_no_unet")
    rho = metrics.get(f"{tag}_target_spearman", float("nan"))
    s = {k: _fmt(metrics, f"{tag}_{k}_score") for k in ("lpt", "lpt_ei", "dt", "bc", "lpt_no_unet")}
    rows = [
        Claim(
            "(a) LPT's normalized score beats DT-final-return and BC",
            f"{tag}_lpt_score",
            f"LPT {PAPER['lpt']} vs DT {PAPER['dt']} ({PAPER['where']})",
            s["lpt"],
            f"DT {s['dt']}; BC {s['bc']}",
            bool(lpt > dt and lpt > bc),
        ),
        Claim(
            "(b) the no-UNet ablation (z = z0) scores at most LPT",
            f"{tag}_lpt_no_unet_score",
            "Table 9: w/o UNet below LPT on all 4 tasks (umaze not reported)",
            s["lpt"],
            f"no-UNet {s['lpt_no_unet']}",
            bool(nou <= lpt),
        ),
        Claim(
            "(c) achieved return rises with the requested y*",
            f"{tag}_target_spearman",
            "no number in the paper (sanity check asked by the issue)",
            _fmt(metrics, f"{tag}_target_spearman"),
            "Spearman ρ > 0 required",
            bool(rho > 0),
        ),
        Claim(
            "(d) LPT-EI (ω > 1) scores at least LPT (ω = 1)",
            f"{tag}_lpt_ei_score",
            f"LPT-EI {PAPER['lpt_ei']} vs LPT {PAPER['lpt']}",
            s["lpt_ei"],
            f"LPT (ω = 1) {s['lpt']}",
            bool(ei >= lpt),
        ),
    ]
    return [c for c in rows if nou == nou or c.metric != f"{tag}_lpt_no_unet_score"]


def write_report(
    metrics: dict,
    curves: dict[str, list[list[float]]],
    steps: list[int],
    tag: str,
    out: Path,
    profile: str,
    cfg: Config,
    results_md: Path,
    prefix: str = "",
) -> Path:
    """Figures (``out/<prefix>*.png``) and the markdown report ``results_md``."""
    figs = {}
    if steps:
        figs["Training action MSE (mean ± std over seeds)"] = plots.learning_curves(
            {k: (steps, np.array(v)) for k, v in curves.items()},
            out / f"{prefix}action_mse.png",
            xlabel="iteration",
            ylabel="action MSE",
            logy=True,
        )
    sweep = metrics["target_sweep"]
    if sweep["mean_returns"]:
        figs["Achieved return vs requested return y* (LPT, ω = 1)"] = plots.learning_curves(
            {"LPT": (sweep["targets"], np.array(sweep["mean_returns"]))},
            out / f"{prefix}target_sweep.png",
            xlabel="requested return y*",
            ylabel="achieved return",
        )
    d = metrics["data"]
    if tag == "halfcheetah":
        source = (
            "HalfCheetah-v5, open-loop CPG gaits from every CEM round plus action noise "
            f"{list(cfg.data.noise_levels)}"
        )
        expert = "best generator gait"
    else:
        source = "gymnasium-robotics PointMaze, D4RL waypoint-controller recipe"
        expert = "controller"
    notes = (
        f"- Data: {d['n_trajectories']} trajectories / {d['n_transitions']} transitions generated "
        f"locally ({source}); final returns "
        f"mean {d['return_mean']:.2f}, max {d['return_max']:.0f}"
        + ("" if tag == "halfcheetah" else f", {100 * d['frac_nonzero_return']:.0f}% non-zero")
        + ". Scores are **not comparable** with "
        f"the paper's D4RL tables.\n"
        f"- Normalized score = 100·(R − R_random)/(R_{expert.split()[-1]} − R_random) over "
        f"{cfg.eval.horizon}-step episodes, references measured on our environment: random "
        f"{metrics['ref_min_random']:.1f}, {expert} {metrics['ref_max_controller']:.1f}.\n"
        f"- y* = {metrics['y_star']:.1f} (best return in the data); LPT-EI uses "
        f"ω = {cfg.langevin.omega_ei}; mean |ŷ(z*) − y*| after planning: "
        f"{metrics['plan_abs_error'] or float('nan'):.2f}.\n"
        f"- Speed: LPT training {metrics.get('lpt_train_iters_per_s', float('nan')):.2f} it/s, "
        f"DT {metrics.get('dt_train_iters_per_s', float('nan')):.2f} it/s; evaluation "
        f"{metrics.get('eval_env_steps_per_s', float('nan')):.0f} env-steps/s (batched "
        f"episodes, cached rollout); cached vs naive rollout speed-up "
        f"{metrics.get('rollout_speedup', float('nan')):.1f}x over "
        f"{cfg.eval.speed_steps} steps.\n"
    )
    return write_results(
        results_md,
        title=f"LPT: {profile} profile on {cfg.data.env}",
        claims=claims(metrics, tag),
        figures=figs,
        wall_time_s=metrics["wall_time_s"],
        command=f"python -m lpt.reproduce --profile {profile}",
        profile=profile,
        seeds=list(cfg.seeds),
        notes=notes,
        metrics_path=out / f"{prefix}metrics.json",
    )


def merge_metrics(path: Path, new: dict, tag: str) -> None:
    """Write the ``<tag>_*`` keys of ``new`` into an existing metrics.json.

    Keys of other experiments (the Maze2D ``cpu`` profile) are never touched; the ``<tag>_*``
    keys of an earlier run of this experiment are replaced by this run's values.
    """
    old = json.loads(path.read_text()) if path.exists() else {}
    kept = {k: v for k, v in old.items() if not k.startswith(f"{tag}_")}
    ours = {k: v for k, v in new.items() if k.startswith(f"{tag}_")}
    path.write_text(json.dumps(kept | ours, indent=2, sort_keys=True) + "\n")


def marked_section(results_md: Path) -> str | None:
    """The marked HalfCheetah section of ``results_md`` (markers included), if it has one."""
    text = results_md.read_text() if results_md.exists() else ""
    if SECTION_START not in text or SECTION_END not in text:
        return None
    return SECTION_START + text.split(SECTION_START, 1)[1].split(SECTION_END, 1)[0] + SECTION_END


def append_section(results_md: Path, section: str | None) -> None:
    """Put back a section saved by :func:`marked_section` after ``results_md`` was rewritten."""
    if section is not None:
        results_md.write_text(results_md.read_text().rstrip() + f"\n\n{section}\n")


def merge_section(results_md: Path, section_md: Path, heading: str) -> None:
    """Move ``section_md`` (a report written next to ``results_md``, so its links already resolve)
    into ``results_md`` as a marked ``## heading`` section, replacing an earlier one."""
    text = results_md.read_text() if results_md.exists() else ""
    if SECTION_START in text:
        head, tail = text.split(SECTION_START, 1)
        text = head.rstrip() + "\n" + tail.split(SECTION_END, 1)[1].lstrip("\n")
    body = section_md.read_text().split("\n", 1)[1].replace("\n## ", "\n### ")
    text = text.rstrip() + f"\n\n{SECTION_START}\n## {heading}\n{body.rstrip()}\n{SECTION_END}\n"
    results_md.write_text(text)
    section_md.unlink()
