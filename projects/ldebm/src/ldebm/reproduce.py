"""Entry point: ``python -m ldebm.reproduce --profile {smoke,cpu,cpu-long,paper} [--key value]
[--fresh]``.

The prior-only experiment on the fixed unit-variance 16-Gaussian latent target: per seed, a
reference unit (fresh target samples and the wrong samplers through every metric, the analytic
sampler check) and one unit per learned prior (LDEBM, SVEBM-IB, LDEBM without clustering:
training, resumable from checkpoints, then its samples through the same metrics). The gates
and claims of ``ldebm.claims`` are judged by the one rule of ``reprokit.claims``; metrics.json,
figures and RESULTS.md go where ``reprokit.lifecycle.report_target`` says (the unmodified cpu
profile: the committed results; a run with overrides: its run folder). A rerun of the same
command reuses finished units and resumes an interrupted one; ``--fresh`` starts over.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ldebm.claims import build_evidence
from ldebm.configs import JOINT_PROFILES, PROFILES, Config, JointConfig
from ldebm.sections import SECTION_TAGS
from ldebm.text_configs import TEXT_PROFILES, TextConfig
from reprokit.config import parse, to_dict
from reprokit.errors import UserError
from reprokit.lifecycle import Session, entry, footer, header, report_target
from reprokit.report import keep_sections, marked_section, write_results
from reprokit.runlog import Run
from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer, capture_rng_state

PROG = "ldebm.reproduce"
EXPECTED = {
    "smoke": "~30 s",
    "cpu-pinwheel": "~6-12 min in one CPU slot",
    "cpu": "~11-15 min in one CPU slot (2 cores shared with other jobs)",
    "cpu-long": "~30 min in one CPU slot",
    "paper": "hours on a GPU",
    "text-smoke": "~30 s",
    "cpu-text": "~15-25 min on 2 CPU cores shared with other jobs",
    "text-paper": "hours on a GPU",
    "joint-smoke": "~15 s",
    "cpu-joint": "~10-20 min on 2 CPU cores shared with other jobs",
}
ALL_PROFILES = {**PROFILES, **TEXT_PROFILES, **JOINT_PROFILES}


def _rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The seed's training-pool and held-out streams (the same for every method: paired)."""
    return np.random.default_rng([seed, 0]), np.random.default_rng([seed, 1])


def reference_unit(cfg: Config, seed: int, dataset: str) -> dict:
    """Fresh target samples and the wrong samplers through every metric; the analytic check
    of the top-level sampler and grid density (the floor and tolerance of the sampler gates)."""
    from ldebm import evaluate as ev
    from ldebm.metrics import sample_metrics
    from ldebm.schedule import make_schedule
    from ldebm.target import TARGETS, wrong_samples

    seed_everything(seed, torch=True)
    ec, target = cfg.experiment, TARGETS[dataset]()
    _, held = _rngs(seed)
    ref, _ = target.sample(ec.n_eval, held)
    bw = _bandwidths(target)
    rng = np.random.default_rng([seed, 2])
    sources = {"data": target.sample(ec.n_eval, rng)[0], **wrong_samples(target, ec.n_eval, rng)}
    out = {
        f"prior/{m}/{src}": v
        for src, x in sources.items()
        for m, v in sample_metrics(target, x, ref, bw).items()
    }
    out["prior/precision/half_gap"] = 0.5 * (
        out["prior/precision/gaussian"] + out["prior/precision/data"]
    )
    out["density/heldout_ll/gaussian"] = ev.gaussian_heldout_ll(ref)
    sched = make_schedule(cfg.ldebm.T, cfg.ldebm.step_size)
    chk = ev.analytic_check(target, sched, ec, rng)
    out["sampler/tv_excess/analytic"] = chk["tv_excess"]
    out["sampler/tv/iid_floor"] = chk["floor"]
    out["sampler/tv_excess/blind"] = chk["tv_wrong"] - chk["floor"]
    if ec.reachability:
        torch.manual_seed(seed + 20_000)
        steps = cfg.ldebm.sample_steps or cfg.ldebm.langevin_steps
        exact = ev.exact_ancestral(target, sched, ec.n_eval, steps)
        for m, v in sample_metrics(target, exact, ref, bw).items():
            out[f"prior/{m}/exact_ancestral"] = v
    return {"metrics": out, "samples": sources}


def _bandwidths(target) -> dict[str, float]:
    """RBF bandwidths of the MMD²: the component σ, the grid spacing, and 1 (the data scale)."""
    return {"sigma": target.sigma, "spacing": target.spacing, "unit": 1.0}


def method_unit(
    cfg: Config, seed: int, unit: tuple[str, str], floor: float, folder: Path, session: Session
) -> dict:
    """Train one (dataset, method) prior of a seed (resumable), then its samples through every
    metric."""
    from ldebm import prior
    from ldebm.target import TARGETS

    seed_everything(seed, torch=True)
    (dataset, method), target = unit, TARGETS[unit[0]]()
    mc = cfg.method(method, dataset)
    pool_rng, _ = _rngs(seed)
    pool, pool_comp = target.sample(cfg.experiment.pool_size, pool_rng)
    lrn = prior.build(method, mc)
    opt = torch.optim.Adam(lrn.ebm.parameters(), lr=mc.lr)
    ckpt = Checkpointer(folder / "checkpoints", every=mc.ckpt_every, config=to_dict(cfg))
    start = ckpt.resume(lrn.ebm, opt)
    if ckpt.state is not None:
        lrn.train_time_s = float(ckpt.state["train_time_s"])

    def save(step: int) -> None:
        state = {
            "model": lrn.ebm.state_dict(),
            "optimizer": opt.state_dict(),
            "rng": capture_rng_state(),
            "train_time_s": lrn.train_time_s,
        }
        ckpt.save(step, state)

    with Run("ldebm", session.profile, to_dict(cfg), seed=seed, folder=folder) as run:
        hooks = prior.Hooks(
            log=lambda step, **kw: run.log(step, {f"{method}/{k}": v for k, v in kw.items()}),
            progress=run.progress,
            boundary=lambda step, s: session.boundary(
                f"at {method} seed {seed} iteration {step}", s
            ),
        )
        labels = prior.train(lrn, mc, pool, seed, opt, start, hooks, save)
        out = _evaluate(cfg, seed, target, lrn, pool_comp, labels, floor)
        run.finish({k: v for k, v in out["metrics"].items()})
    return out


def _evaluate(
    cfg: Config,
    seed: int,
    target,
    lrn,
    pool_comp: np.ndarray,
    labels: np.ndarray | None,
    floor: float,
) -> dict:
    """Samples, sample metrics, symbol NMI and the method's sampler / density checks (``floor``:
    the i.i.d. TV floor of the seed's reference unit on the same ``target``)."""
    from ldebm import evaluate as ev
    from ldebm.metrics import sample_metrics, symbol_nmi

    ec, m = cfg.experiment, lrn.method
    _, held = _rngs(seed)
    ref, comp = target.sample(ec.n_eval, held)
    torch.manual_seed(seed + 10_000)
    levels = [z.numpy() for z in lrn.sample_levels(ec.n_eval)]
    x = levels[-1]
    out = {
        f"prior/{k}/{m}": v for k, v in sample_metrics(target, x, ref, _bandwidths(target)).items()
    }
    tails = ev.level_tails(levels, target, lrn.sched, np.random.default_rng([seed, 3]))
    out.update({f"levels/tail/t{t}/{m}": v for t, v in tails.items()})
    out[f"symbols/nmi/{m}"] = symbol_nmi(lrn.symbols(torch.from_numpy(ref)), comp)
    out[f"train_time_s/{m}"] = lrn.train_time_s
    if labels is not None:
        out[f"symbols/nmi/kmeans_{m}"] = symbol_nmi(labels, pool_comp)
    if lrn.sched is not None:
        out[f"sampler/tv_excess/{m}"] = ev.sampler_check(lrn.ebm, lrn.sched, ec, target) - floor
    else:
        out[f"density/heldout_ll/{m}"] = ev.svebm_heldout_ll(lrn.ebm, ref)
        out[f"sampler/tv/{m}_shortrun"] = ev.svebm_shortrun_tv(lrn, x, ec)
    return {"metrics": out, "samples": x}


def _prefix(dataset: str) -> str:
    """Metric-name and unit-name prefix of a target (the grid: none)."""
    return "" if dataset == "grid" else f"{dataset}/"


def run_units(cfg: Config, session: Session) -> dict:
    """Every unit in order (per seed and target: reference, then each method); their results,
    the metric names prefixed by the target's ``_prefix``."""
    per_seed: dict[str, list[float]] = {}
    art: dict = {}
    for seed in cfg.seeds:
        for dataset in cfg.datasets:
            p = _prefix(dataset)
            unit = p.replace("/", "-")
            res = [
                session.unit(
                    f"{unit}reference-seed{seed}",
                    lambda _, s=seed, d=dataset: reference_unit(cfg, s, d),
                )
            ]
            floor = res[0]["metrics"]["sampler/tv/iid_floor"]
            for d, method in cfg.units():
                if d != dataset:
                    continue
                res.append(
                    session.unit(
                        f"{unit}{method}-seed{seed}",
                        lambda f_, s=seed, u=(d, method), f=floor: method_unit(
                            cfg, s, u, f, f_, session
                        ),
                    )
                )
                if seed == cfg.seeds[0]:
                    art[f"{unit}{method}"] = res[-1]["samples"]
            if seed == cfg.seeds[0]:
                art[f"{unit}data"] = res[0]["samples"]["data"]
            for r in res:
                for k, v in r["metrics"].items():
                    per_seed.setdefault(p + k, []).append(float(v))
    return {"per_seed": per_seed, "art": art}


def _command(argv: list[str], profile: str, committed: bool) -> str:
    """The command of RESULTS.md: the make target for the committed results, else the CLI."""
    if committed:
        return "make reproduce PROJECT=ldebm" + ("" if profile == "cpu" else f" PROFILE={profile}")
    return " ".join(["python -m ldebm.reproduce", *argv])


def _figures(out_dir: Path, art: dict) -> dict[str, Path]:
    """Samples of every learned prior against fresh target samples (first seed), per target."""
    from reprokit import plots

    figs = {}
    for name, x in art.items():
        dataset, _, method = name.rpartition("-")
        if method == "data":
            continue
        label = dataset or "grid"
        figs[f"{method} prior samples vs target samples ({label}, first seed)"] = plots.scatter_2d(
            {"target": art[f"{dataset}-data" if dataset else "data"], method: x},
            out_dir / f"samples_{name.replace('-', '_')}.png",
            lim=(-2.5, 2.5),
        )
    return figs


def write_report(cfg: Config, profile: str, argv: list[str], session: Session, res: dict) -> None:
    """Judge the evidence; metrics.json, figures and RESULTS.md where report_target says (a
    pinwheel-only run: the cpu-pinwheel section, ``write_pinwheel_report``)."""
    from ldebm.notes import results_notes

    if cfg.datasets == ("pinwheel",):
        write_pinwheel_report(cfg, profile, argv, session, res)
        return
    target = report_target("ldebm", profile, cfg, PROFILES, __file__, session, out=cfg.out)
    ev = build_evidence(profile, cfg.seeds, res["per_seed"], cfg.datasets)
    figures = _figures(target.dir, res["art"])
    wall, info = session.wall_time_s, _info(cfg)
    metrics_path = ev.write(target.dir / "metrics.json", wall, info)
    doc = ev.to_dict(wall, info)
    kept = [marked_section(target.results_md, t) for t in SECTION_TAGS] if target.committed else []
    write_results(
        target.results_md,
        doc,
        title="ldebm: CPU-profile results" if profile == "cpu" else f"ldebm: {profile} profile",
        figures=figures,
        command=_command(argv, profile, target.committed),
        notes=results_notes(doc, cfg),
        metrics_path=metrics_path,
    )
    keep_sections(target.results_md, kept)  # the cpu-pinwheel, cpu-text, cpu-joint sections
    footer(session, doc, [target.results_md, metrics_path, *figures.values()], why=target.why)


def write_pinwheel_report(
    cfg: Config, profile: str, argv: list[str], session: Session, res: dict
) -> None:
    """The unmodified cpu-pinwheel profile: results/cpu/prior_pinwheel_metrics.json, its
    figures and the marked prior_pinwheel section of RESULTS.md; any other pinwheel-only run:
    its own folder."""
    from ldebm.notes import results_notes
    from ldebm.sections import side_target, write_side_report

    target = side_target("cpu-pinwheel", profile, cfg, PROFILES, __file__, session)
    ev = build_evidence(profile, cfg.seeds, res["per_seed"], cfg.datasets)
    figures = _figures(target.dir, res["art"])
    links = ", ".join(
        f"[{name}]({os.path.relpath(path, target.results_md.parent)})"
        for name, path in figures.items()
    )
    write_side_report(
        target,
        ev,
        _info(cfg),
        "prior_pinwheel",
        "Prior-only pinwheel mixture (cpu-pinwheel profile)",
        lambda committed: _command(argv, profile, committed),
        lambda doc: results_notes(doc, cfg) + f"\n- Figures: {links}.",
        session,
    )


def _info(cfg: Config) -> dict:
    """Free-form extras of metrics.json: the budgets behind the numbers (no paths)."""
    keys = (
        "iterations",
        "batch_size",
        "langevin_steps",
        "step_size",
        "hidden",
        "n_blocks",
        "lr",
        "mi_weight",
        "cls_weight",
    )
    return {
        "targets": {
            "grid": "16-Gaussian grid, unit variance per coordinate",
            "pinwheel": "pinwheel mixture (10 arms of 10 Gaussians), unit variance",
        },
        "datasets": list(cfg.datasets),
        "experiment": to_dict(cfg.experiment),
        **{
            f"{_prefix(d)}{m}": {k: getattr(cfg.method(m, d), k) for k in (*keys, "n_classes")}
            for d, m in cfg.units()
        },
    }


def preflight(cfg: Config) -> None:
    """Cross-field checks before the first step (one-line UserError)."""
    for d, m in cfg.units():
        mc = cfg.method(m, d)
        if cfg.experiment.check_level >= mc.T and m != "svebm":
            raise UserError(
                f"--experiment.check_level {cfg.experiment.check_level} needs --{m}.T above it"
            )
        if mc.pca_dim > 2:
            raise UserError(f"--{m}.pca_dim: the latents are 2-D, got {mc.pca_dim}")
        if mc.n_classes > cfg.experiment.pool_size:
            raise UserError(
                f"--{m}.n_classes {mc.n_classes} exceeds --experiment.pool_size "
                f"{cfg.experiment.pool_size}"
            )


def run(argv: list[str], fresh: bool) -> None:
    """``reproduce`` under the lifecycle: preflight, then the 2-D units (reference | method, seed)
    or, for the text profiles, the text units."""
    torch.set_num_threads(1)
    profile, cfg = parse(ALL_PROFILES, argv, prog=PROG)
    if len(set(cfg.seeds)) != len(cfg.seeds):  # every profile family
        raise UserError(f"--seeds: repeated seed in {list(cfg.seeds)}")
    if isinstance(cfg, TextConfig):
        run_text_profile(profile, cfg, argv, fresh)
        return
    if isinstance(cfg, JointConfig):
        run_joint_profile(profile, cfg, argv, fresh)
        return
    preflight(cfg)
    with Session("ldebm", profile, cfg, fresh=fresh) as session:
        header(
            session,
            expected=EXPECTED.get(profile),
            seeds=cfg.seeds,
            methods=", ".join(f"{d}: {m}" for d, m in cfg.units()),
            targets="16-Gaussian grid, pinwheel mixture (unit variance), prior only",
        )
        res = run_units(cfg, session)
        write_report(cfg, profile, argv, session, res)


def text_preflight(cfg: TextConfig) -> None:
    """Cross-field checks of the text profiles before the first step (one-line UserError);
    loading the corpora refuses an empty one or a missing package."""
    from ldebm.corpus import load

    for name, mc in (("model", cfg.model), ("ptb.model", cfg.ptb.model)):
        if mc.pca_dim > mc.latent:
            raise UserError(f"--{name}.pca_dim {mc.pca_dim} exceeds --{name}.latent {mc.latent}")
    load(cfg.dataset, "train", cfg.model.max_len)
    if cfg.ptb.run:
        load("ptb", "valid", cfg.ptb.model.max_len)


def run_text_profile(profile: str, cfg: TextConfig, argv: list[str], fresh: bool) -> None:
    """The text experiment under the lifecycle (``ldebm.text_experiment``)."""
    from ldebm import text_experiment as tx

    text_preflight(cfg)
    data = f"{cfg.dataset} (labelled) + PTB smoke" if cfg.ptb.run else cfg.dataset
    _run_side_profile(profile, cfg, argv, fresh, data, tx.run_text, tx.write_text_report)


def joint_preflight(cfg: JointConfig) -> None:
    """Cross-field checks of the joint profiles before the first step (one-line UserError)."""
    for m in cfg.methods:
        if cfg.method(m).pca_dim > 2:
            raise UserError(f"--{m}.pca_dim: the latents are 2-D, got {cfg.method(m).pca_dim}")


def run_joint_profile(profile: str, cfg: JointConfig, argv: list[str], fresh: bool) -> None:
    """The joint 2-D VAE experiment under the lifecycle (``ldebm.joint_experiment``)."""
    from ldebm import joint_experiment as jx

    joint_preflight(cfg)
    data = f"{cfg.dataset} (official scale), joint VAE"
    _run_side_profile(profile, cfg, argv, fresh, data, jx.run_joint, jx.write_joint_report)


def _run_side_profile(
    profile: str,
    cfg: TextConfig | JointConfig,
    argv: list[str],
    fresh: bool,
    data: str,
    run_units: Callable,
    write_report: Callable,
) -> None:
    """One session of a side profile (text, joint): header, its units, its marked report."""
    with Session("ldebm", profile, cfg, fresh=fresh) as session:
        header(
            session, expected=EXPECTED.get(profile), seeds=cfg.seeds, methods=cfg.methods, data=data
        )
        result = run_units(cfg, session)
        command = lambda committed: _command(argv, profile, committed)  # noqa: E731
        write_report(cfg, profile, command, session, result)


if __name__ == "__main__":
    entry(PROG, run)
