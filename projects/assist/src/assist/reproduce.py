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
from assist.replica import check_layout
from assist.train import Hooks
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
from reprokit.torch_utils import Checkpointer

PROG = "assist.reproduce"
LONG = "cpu-long"  # writes results/cpu/long_* and the marked section LONG of RESULTS.md
EXPECTED = {
    "smoke": "~20 s",
    "pilot": "~15 min on 2 CPU cores shared with other jobs",
    "cpu": "~15 min on 2 CPU cores shared with other jobs",
    "cpu-long": "~30-45 min on 2 CPU cores shared with other jobs",
    "paper": "hours on a GPU (a Replica sequence)",
}


def preflight(cfg: Config, profile: str = "cpu") -> None:
    """Cross-field checks before the first step (one line each)."""
    check_device(cfg.device)
    if "assist" not in cfg.methods:
        raise UserError("--methods must include assist (every claim compares against it)")
    if len(set(cfg.seeds)) != len(cfg.seeds):
        raise UserError(f"--seeds has duplicates: {list(cfg.seeds)}")
    if cfg.data.replica is not None or profile == "paper":
        check_layout(cfg.data.replica, cfg)


def _train_data(cfg: Config, kind: str, seed: int) -> ex.RoomData:
    """The data a training unit fits: room A, room B (``-B``) or the Replica sequence (``-R``)."""
    if kind.endswith("-R"):
        return ex.replica_data(cfg)[0]
    a, b = ex.rooms(cfg, seed)
    return b if kind.endswith("-B") else a


def _train_unit(cfg: Config, kind: str, seed: int, folder: Path, session: Session) -> dict:
    """One training unit: ``assist-A``, ``assist-B``, ``nomask-A``, ``baseline`` (room A), or
    ``assist-R`` / ``nomask-R`` / ``baseline-R`` on a Replica sequence."""
    data = _train_data(cfg, kind, seed)
    ckpt = Checkpointer(folder / "checkpoints", every=cfg.train.ckpt_every, config=to_dict(cfg))
    with Run("assist", session.profile, to_dict(cfg), seed=seed, folder=folder) as run:
        hooks = Hooks(
            log=lambda step, **kw: run.log(step, {f"{kind}/{k}": v for k, v in kw.items()}),
            progress=run.progress,
            boundary=session.boundary,
        )
        if kind.startswith("baseline"):
            out = ex.train_baseline(cfg, data, seed, ckpt, hooks)
        else:
            mask = not kind.startswith("nomask")
            out = ex.train_nodes(cfg, data, seed, ckpt, hooks, mask, not kind.endswith("-B"))
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


def _kinds(cfg: Config) -> list[str]:
    """The training units of one seed, in order."""
    if cfg.data.replica is not None:
        return [f"{m}-R" for m in cfg.methods]
    kinds = ["assist-A", "assist-B"]
    kinds += ["nomask-A"] if "nomask" in cfg.methods else []
    return kinds + (["baseline"] if "baseline" in cfg.methods else [])


def run_units(cfg: Config, session: Session) -> dict:
    """Every unit in order; per-seed scores as {metric: {seed: value}}."""
    per_seed: dict[str, dict[int, float]] = {}
    out: dict = {"per_seed": per_seed, "art": None, "speed": {}}
    replica = cfg.data.replica is not None
    for seed in cfg.seeds:
        trained = {
            k: session.unit(
                f"{k}-seed{seed}", lambda d, k=k, s=seed: _train_unit(cfg, k, s, d, session)
            )
            for k in _kinds(cfg)
        }
        if replica:
            res = session.unit(
                f"eval-R-seed{seed}", lambda _, t=trained: {"scores": ex.evaluate_replica(cfg, t)}
            )
        else:
            res = session.unit(
                f"eval-seed{seed}", lambda _, s=seed, t=trained: _eval_unit(cfg, s, t)
            )
        for k, v in res["scores"].items():
            per_seed.setdefault(k, {})[seed] = float(v)
        out["art"] = out["art"] or (None if replica else res)
    if cfg.speed_nodes:
        out["speed"] = session.unit(
            "speed", lambda _: ex.speed(cfg, _train_data(cfg, _kinds(cfg)[0], cfg.seeds[0]))
        )
    return out


def _constants(cfg: Config, timing: dict[str, float]) -> dict[str, float]:
    """The timing as constants: seconds per step and the loop / batched ratio at the most nodes."""
    if not timing:
        return {}
    n = max(cfg.speed_nodes)
    ratio = timing[f"step_time_s/loop_{n}"] / timing[f"step_time_s/batched_{n}"]
    return {**timing, f"batched_speedup_{n}_nodes": ratio}


def report_place(profile: str, cfg: Config, session: Session) -> ReportTarget:
    """``report_target``; the unmodified cpu-long profile also writes the committed results/cpu/
    (its own ``long_*`` files and a marked section of RESULTS.md), like the cpu profile."""
    if profile == LONG:
        profiles = {"cpu": PROFILES[LONG]}  # committed when cfg equals the cpu-long profile
        return report_target("assist", "cpu", cfg, profiles, __file__, session, out=cfg.out)
    return report_target("assist", profile, cfg, PROFILES, __file__, session, out=cfg.out)


def write_report(
    cfg: Config, profile: str, argv: list[str], session: Session, res: dict, target: ReportTarget
) -> None:
    """Judge the evidence; metrics.json, figures and RESULTS.md into ``target``. A committed
    cpu-long run writes ``long_*`` files and only its section of RESULTS.md; a committed cpu run
    rewrites RESULTS.md and keeps that section."""
    from assist.figures import edit_figure
    from assist.notes import results_notes

    long = target.committed and profile == LONG
    prefix = "long_" if long else ""
    ev = build_evidence(profile, res["per_seed"], list(cfg.seeds), _constants(cfg, res["speed"]))
    info = _info(cfg)
    metrics_path = ev.write(target.dir / f"{prefix}metrics.json", session.wall_time_s, info)
    doc = ev.to_dict(session.wall_time_s, info)
    figures = {}
    if res["art"] is not None:  # a Replica run has no edited ground truth to show
        title = (
            f"Held-out view per edit (seed {cfg.seeds[0]}): GT, ASSIST, the wrong-frame control, "
            "depth and panoptic ids, and the scored edit region"
        )
        figures[title] = edit_figure(res["art"], target.dir / f"{prefix}edits.png")
    command = " ".join([f"python -m {PROG}", *argv])
    if target.committed:
        command = "make reproduce PROJECT=assist" + (f" PROFILE={LONG}" if long else "")
    kept = [marked_section(target.results_md, LONG)] if target.committed and not long else []
    report_md = target.results_md.with_name(".long_section.md") if long else target.results_md
    write_results(
        report_md,
        doc,
        title="assist: CPU-profile results" if profile == "cpu" else f"assist: {profile} profile",
        figures=figures,
        command=command,
        notes=results_notes(doc, cfg),
        metrics_path=metrics_path,
    )
    if long:
        heading = f"{LONG} profile (`make reproduce PROJECT=assist PROFILE={LONG}`)"
        merge_section(target.results_md, report_md, heading, LONG)
    keep_sections(target.results_md, kept)
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
    preflight(cfg, profile)
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
        write_report(cfg, profile, argv, session, res, report_place(profile, cfg, session))


if __name__ == "__main__":
    entry(PROG, run)
