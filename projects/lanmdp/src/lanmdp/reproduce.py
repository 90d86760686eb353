"""Entry point: ``python -m lanmdp.reproduce --profile {smoke,cpu,paper} [--key value] [--fresh]``.

The cubic path-planning task with a context-length ablation: the references (data, oracles,
random and zero actions), the MSE regression reference, LanMDP's (seed, L) ensemble and the
planning experiment are the units of a ``reprokit.lifecycle`` session
``<runs root>/lanmdp/<profile>/<config hash>/``; a rerun of the same command reuses finished
units and resumes LanMDP's training from its checkpoints; ``--fresh`` starts over. The gates and
claims of ``lanmdp.claims`` are judged by the rule of ``reprokit.claims`` and written as
``metrics.json`` (``reprokit.metrics/1``), figures and RESULTS.md where
``reprokit.lifecycle.report_target`` says (the unmodified cpu profile: the committed results).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lanmdp import experiment, imitation_run
from lanmdp.claims import build_evidence
from lanmdp.configs import PROFILES, Config, ImitationConfig
from lanmdp.notes import results_notes
from reprokit.config import parse, to_dict
from reprokit.errors import UserError
from reprokit.lifecycle import Session, check_device, entry, footer, header, report_target
from reprokit.report import keep_sections, marked_section, write_results
from reprokit.runlog import Run
from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer

PROG = "lanmdp.reproduce"
EXPECTED = {
    "smoke": "~20 s",
    "cpu": "~3 min on 2 CPU cores (longer on a shared machine)",
    "paper": "hours on a GPU",
    "smoke-mujoco": "~30 s",
    "cpu-mujoco": "~25 min on 2 loaded CPU cores",
    "paper-mujoco": "days on CPU (the MuJoCo experiment is not ported to GPU)",
}


def preflight(cfg: Config) -> torch.device:
    """Every cross-field check before the first step; the device."""
    lengths = cfg.model.context_lengths
    if len(set(cfg.seeds)) != len(cfg.seeds):
        raise UserError(f"--seeds: repeated seed in {list(cfg.seeds)}")
    if len(set(lengths)) != len(lengths) or min(lengths) != 1 or min(lengths) < 1:
        raise UserError(
            f"--model.context_lengths: distinct lengths including 1 needed, got {list(lengths)}"
        )
    if max(lengths) > 20:
        raise UserError(
            f"--model.context_lengths: at most 20 (the path length), got {max(lengths)}"
        )
    return torch.device(check_device(cfg.device))


def run_units(cfg: Config, session: Session, device: torch.device) -> dict:
    """Every unit in order; the per-seed metrics and the figure material."""
    seed = cfg.seeds[0]
    config = to_dict(cfg)

    def refs(_: Path) -> dict:
        seed_everything(seed, torch=True)
        return experiment.references(cfg, device)

    def regression(folder: Path) -> dict:
        seed_everything(seed + 1, torch=True)
        with Run("lanmdp", session.profile, config, seed=seed, folder=folder) as run:
            return experiment.regression(cfg, device, run.progress, session.boundary)

    def lanmdp(folder: Path) -> dict:
        seed_everything(seed + 2, torch=True)
        with Run("lanmdp", session.profile, config, seed=seed, folder=folder) as run:
            hooks = (run.log, session.boundary, run.progress)
            return experiment.lanmdp(cfg, device, folder, config, hooks)

    results = {
        "references": session.unit("references", refs),
        "regression": session.unit("regression", regression),
        "lanmdp": session.unit("lanmdp", lanmdp),
    }
    if cfg.plan.enabled:
        ckpt = Checkpointer(session.unit_dir("lanmdp") / "checkpoints", config=config).latest()

        def plan(_: Path) -> dict:
            seed_everything(seed + 3, torch=True)
            return experiment.planning(cfg, device, ckpt)

        results["planning"] = session.unit("planning", plan)
    return results


def _command(argv: list[str], committed: bool) -> str:
    if committed:
        return "make reproduce PROJECT=lanmdp"
    return " ".join(["python -m lanmdp.reproduce", *argv])


def write_report(cfg: Config, profile: str, argv: list[str], session: Session, res: dict) -> None:
    """Judge the evidence; metrics.json, figures and RESULTS.md where report_target says."""
    target = report_target("lanmdp", profile, cfg, PROFILES, __file__, session, out=cfg.out)
    per_seed: dict[str, list[float]] = {}
    for unit in res.values():
        per_seed.update(unit["metrics"])
    L_max = max(cfg.model.context_lengths)
    ev = build_evidence(profile, cfg.seeds, per_seed, L_max)
    figures = _figures(target.dir, cfg, res)
    info = _info(cfg, res)
    wall = session.wall_time_s
    metrics_path = ev.write(target.dir / "metrics.json", wall, info)
    doc = ev.to_dict(wall, info)
    kept = [marked_section(target.results_md, imitation_run.MUJOCO)] if target.committed else []
    write_results(
        target.results_md,
        doc,
        title="lanmdp: CPU-profile results" if profile == "cpu" else f"lanmdp: {profile} profile",
        figures=figures,
        command=_command(argv, target.committed),
        notes=results_notes(doc, cfg),
        metrics_path=metrics_path,
    )
    keep_sections(target.results_md, kept)  # the cpu-mujoco profile's section stays
    footer(session, doc, [target.results_md, metrics_path, *figures.values()], why=target.why)


def _info(cfg: Config, res: dict) -> dict:
    """Free-form extras of metrics.json: budgets and the planner's validation choice."""
    info: dict = {
        "task": "cubic curves, 21 states, known transition y' = y + a",
        "train_curves_per_seed": cfg.data.train_curves,
        "context_lengths": list(cfg.model.context_lengths),
        "hidden": cfg.model.hidden,
        "iterations": cfg.train.iterations,
        "valid_cubic_test": {"c3_min": cfg.eval.c3_test, "tau": cfg.eval.tau},
        "issue_keys_not_measured": ["mujoco_lanmdp_return", "mujoco_bco_return"],
    }
    if "planning" in res:
        info["planning"] = res["planning"]["info"]
    return info


def _figures(out_dir: Path, cfg: Config, res: dict) -> dict[str, Path]:
    """Executed paths of the first seed (oracle and LanMDP at every L) and the loss curve."""
    from reprokit import plots

    lengths = cfg.model.context_lengths
    figs: dict[str, Path] = {}
    x = np.linspace(-1.0, 1.0, 21)
    rows = {}
    for name in ("references", "lanmdp"):
        paths = np.asarray(res[name]["paths"])  # (K, 8, T+1)
        for j, L in enumerate(lengths):
            label = "oracle" if name == "references" else "LanMDP"
            rows[f"{label} L{L}"] = {
                f"path {i}": np.stack([x, p], 1) for i, p in enumerate(paths[j])
            }
    figs["Executed paths from fresh starts (first seed; each panel: 8 paths)"] = _path_grid(
        rows, out_dir / "paths.png"
    )
    curve = np.asarray(res["lanmdp"]["curve"])
    if len(curve):
        figs["LanMDP training loss (sum over the ensemble's members)"] = plots.learning_curves(
            {"contrastive loss": (curve[:, 0], curve[:, 1])},
            out_dir / "loss.png",
            xlabel="iteration",
        )
    return figs


def _path_grid(rows: dict[str, dict[str, np.ndarray]], path: Path) -> Path:
    """One panel per policy with its paths y(x)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(rows)
    cols = n // 2 if n > 1 else 1
    fig = Figure(figsize=(3 * cols, 5.6))
    FigureCanvasAgg(fig)
    for i, (title, lines) in enumerate(rows.items()):
        ax = fig.add_subplot(2, cols, i + 1)
        for xy in lines.values():
            ax.plot(xy[:, 0], xy[:, 1], lw=1)
        ax.set_title(title, fontsize=9)
        ax.set_ylim(-2.5, 2.5)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return path


def run(argv: list[str], fresh: bool) -> None:
    """``reproduce`` under the lifecycle: preflight, the units, the report."""
    profile, cfg = parse(PROFILES, argv, prog=PROG)
    if isinstance(cfg, ImitationConfig):
        return imitation_run.run(cfg, profile, argv, fresh, EXPECTED[profile])
    device = preflight(cfg)
    with Session("lanmdp", profile, cfg, fresh=fresh) as session:
        header(
            session,
            expected=EXPECTED.get(profile),
            seeds=cfg.seeds,
            context_lengths=cfg.model.context_lengths,
            iterations=cfg.train.iterations,
            planning="on" if cfg.plan.enabled else "off",
            device=device.type,
        )
        res = run_units(cfg, session, device)
        write_report(cfg, profile, argv, session, res)


if __name__ == "__main__":
    entry(PROG, run)
