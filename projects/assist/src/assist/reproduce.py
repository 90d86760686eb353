"""Entry point: ``python -m assist.reproduce --profile {smoke,pilot,cpu,cpu-long,paper}``.

Per seed: train ASSIST's nodes on room A and room B's object nodes, the monolithic baseline
(and the no-mask ablation where the profile asks), then render the held-out ring unedited and
after the six edits with their controls, next to the voxelised oracle; once: the batched-vs-loop
timing. Judges ``assist.claims`` by the rule of ``reprokit.claims`` and writes ``metrics.json``,
figures and RESULTS.md where ``reprokit.lifecycle.report_target`` says.

Every (model, seed) and every seed's evaluation is a unit of the session
``<runs root>/assist/<profile>/<config hash>/``: rerunning the same command reuses finished units
and resumes an interrupted training from its checkpoint; ``--fresh`` starts over.
"""

from __future__ import annotations

from pathlib import Path

from assist import experiment as ex
from assist.claims import DEPTH_FACTOR, DEPTH_SLACK, MIOU_SLACK, build_evidence
from assist.configs import PROFILES, Config
from assist.train import Hooks
from reprokit.config import parse, to_dict
from reprokit.errors import UserError
from reprokit.lifecycle import Session, check_device, entry, footer, header, report_target
from reprokit.report import write_results
from reprokit.runlog import Run
from reprokit.torch_utils import Checkpointer

PROG = "assist.reproduce"
EXPECTED = {
    "smoke": "~20 s",
    "pilot": "~15 min on 2 CPU cores shared with other jobs",
    "cpu": "~15 min on 2 CPU cores shared with other jobs",
    "cpu-long": "~60 min on 2 CPU cores",
    "paper": "hours on a GPU",
}


def preflight(cfg: Config) -> None:
    """Cross-field checks before the first step (one line each)."""
    check_device(cfg.device)
    if "assist" not in cfg.methods:
        raise UserError("--methods must include assist (every claim compares against it)")
    if len(set(cfg.seeds)) != len(cfg.seeds):
        raise UserError(f"--seeds has duplicates: {list(cfg.seeds)}")


def _train_unit(cfg: Config, kind: str, seed: int, folder: Path, session: Session) -> dict:
    """One training unit: ``assist-A``, ``assist-B``, ``nomask-A`` or ``baseline``."""
    a, b = ex.rooms(cfg, seed)
    ckpt = Checkpointer(folder / "checkpoints", every=cfg.train.ckpt_every, config=to_dict(cfg))
    with Run("assist", session.profile, to_dict(cfg), seed=seed, folder=folder) as run:
        hooks = Hooks(
            log=lambda step, **kw: run.log(step, {f"{kind}/{k}": v for k, v in kw.items()}),
            progress=run.progress,
            boundary=session.boundary,
        )
        if kind == "baseline":
            out = ex.train_baseline(cfg, a, seed, ckpt, hooks)
        else:
            data = b if kind.endswith("-B") else a
            mask = not kind.startswith("nomask")
            out = ex.train_nodes(cfg, data, seed, ckpt, hooks, mask, background=data is a)
        run.finish({})
    return out


def _eval_unit(cfg: Config, seed: int, trained: dict[str, dict]) -> dict:
    """Render and score one seed; returns its scores and (first seed) the figure arrays."""
    a, b = ex.rooms(cfg, seed)
    fields, graph_a, graph_b = ex.node_fields(cfg, a, b, trained["assist-A"], trained["assist-B"])
    models: dict = {
        "graphs": (graph_a, graph_b),
        "assist": fields,
        "oracle": ex.oracle_fields(cfg, a, b),
    }
    if "nomask-A" in trained:
        models["nomask"] = ex.node_fields(cfg, a, b, trained["nomask-A"], trained["assist-B"])[0]
    if "baseline" in trained:
        models["baseline"] = ex.baseline_field(cfg, a, trained["baseline"])
    res = ex.evaluate(cfg, seed, a, b, models)
    sc = res["scores"]
    sc["heldout_depth_l1/threshold"] = DEPTH_FACTOR * sc["heldout_depth_l1/oracle"] + DEPTH_SLACK
    sc["heldout_miou/threshold"] = sc["heldout_miou/oracle"] - MIOU_SLACK
    from assist.figures import figure_arrays

    return {"scores": sc, **figure_arrays(res["art"])}


def run_units(cfg: Config, session: Session) -> dict:
    """Every unit in order; per-seed scores as {metric: {seed: value}}."""
    per_seed: dict[str, dict[int, float]] = {}
    out: dict = {"per_seed": per_seed, "art": None, "speed": {}}
    kinds = ["assist-A", "assist-B"]
    kinds += ["nomask-A"] if "nomask" in cfg.methods else []
    kinds += ["baseline"] if "baseline" in cfg.methods else []
    for seed in cfg.seeds:
        trained = {
            k: session.unit(
                f"{k}-seed{seed}", lambda d, k=k, s=seed: _train_unit(cfg, k, s, d, session)
            )
            for k in kinds
        }
        res = session.unit(f"eval-seed{seed}", lambda _, s=seed, t=trained: _eval_unit(cfg, s, t))
        for k, v in res["scores"].items():
            per_seed.setdefault(k, {})[seed] = float(v)
        out["art"] = out["art"] or res
    if cfg.speed_nodes:
        out["speed"] = session.unit(
            "speed", lambda _: ex.speed(cfg, ex.rooms(cfg, cfg.seeds[0])[0])
        )
    return out


def _constants(cfg: Config, timing: dict[str, float]) -> dict[str, float]:
    """The timing as constants: seconds per step and the loop / batched ratio at the most nodes."""
    if not timing:
        return {}
    n = max(cfg.speed_nodes)
    ratio = timing[f"step_time_s/loop_{n}"] / timing[f"step_time_s/batched_{n}"]
    return {**timing, f"batched_speedup_{n}_nodes": ratio}


def write_report(cfg: Config, profile: str, argv: list[str], session: Session, res: dict) -> None:
    """Judge the evidence; metrics.json, figures and RESULTS.md where report_target says."""
    from assist.figures import edit_figure
    from assist.notes import results_notes

    target = report_target("assist", profile, cfg, PROFILES, __file__, session, out=cfg.out)
    ev = build_evidence(profile, res["per_seed"], list(cfg.seeds), _constants(cfg, res["speed"]))
    info = _info(cfg)
    metrics_path = ev.write(target.dir / "metrics.json", session.wall_time_s, info)
    doc = ev.to_dict(session.wall_time_s, info)
    figures = {
        f"Held-out view per edit (seed {cfg.seeds[0]}): GT, ASSIST, the wrong-frame control, "
        "depth and panoptic ids, and the scored edit region": edit_figure(
            res["art"], target.dir / "edits.png"
        )
    }
    write_results(
        target.results_md,
        doc,
        title="assist: CPU-profile results" if profile == "cpu" else f"assist: {profile} profile",
        figures=figures,
        command="make reproduce PROJECT=assist"
        if target.committed
        else " ".join([f"python -m {PROG}", *argv]),
        notes=results_notes(doc, cfg),
        metrics_path=metrics_path,
    )
    footer(session, doc, [target.results_md, metrics_path, *figures.values()], why=target.why)


def _info(cfg: Config) -> dict:
    from assist.edits import SUITE

    return {
        "edits": {name: command for name, command in SUITE},
        "images": [cfg.data.width, cfg.data.height],
        "views": {"train": cfg.data.train_views, "heldout": cfg.data.test_views},
        "field": cfg.model.kind,
        "steps": cfg.train.steps,
        "thresholds": {
            "depth": f"{DEPTH_FACTOR} x oracle + {DEPTH_SLACK} m",
            "miou": f"oracle - {MIOU_SLACK}",
        },
    }


def run(argv: list[str], fresh: bool) -> None:
    """``reproduce`` under the lifecycle: preflight, one unit per (model, seed), report."""
    profile, cfg = parse(PROFILES, argv, prog=PROG)
    preflight(cfg)
    with Session("assist", profile, cfg, fresh=fresh) as session:
        header(
            session,
            expected=EXPECTED.get(profile),
            seeds=cfg.seeds,
            methods=cfg.methods,
            field=cfg.model.kind,
            images=f"{cfg.data.width}x{cfg.data.height}",
            steps=cfg.train.steps,
        )
        res = run_units(cfg, session)
        write_report(cfg, profile, argv, session, res)


if __name__ == "__main__":
    entry(PROG, run)
