"""Entry point: ``python -m emd.reproduce --profile {smoke,cpu,paper} [--key value ...] [--fresh]``.

Every input is checked before the first training step (:func:`preflight`). The work then runs
as units of a ``reprokit.lifecycle.Session`` (``runs/emd/<profile>/<config hash>/units/``):
``teacher`` (DSM training of ψ), ``references`` (teacher samples, a Gaussian fit, the C1
gradients, the sampling cost) and one unit per distillation ``<method>-seed<seed>``. Rerunning
the same command reuses finished units and resumes an interrupted one from its checkpoints;
``--fresh`` starts over. metrics.json, figures and RESULTS.md go where ``report_target`` says:
the committed ``results/cpu/`` and RESULTS.md only for the unmodified cpu profile.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flax.linen as nn
import jax
import numpy as np
from jax.sharding import Mesh

from emd import data as data_mod
from emd import report, train
from emd.checkpoints import Checkpoints
from emd.claims import evidence
from emd.configs import EXPECTED, METHODS, PROFILES, Config, DistillConfig
from emd.data import SampleFn
from emd.distill import DistillState, c1_gradients
from emd.estep_kl import estep_kl
from emd.figures import figures
from emd.metrics import digits_metrics, gaussian_fit_sample, mixture_metrics, without_rare_modes
from emd.model import ApplyFn, Params, make_apply
from emd.variance import fixed_state_variance
from reprokit.config import parse, to_dict
from reprokit.errors import UserError
from reprokit.jax_utils import data_mesh, replicate
from reprokit.lifecycle import ReportTarget, Session, entry, footer, header, report_target
from reprokit.runlog import Run

PROG = "emd.reproduce"
# Committed side profiles: each writes results/cpu/<tag>_* and the <tag> section of RESULTS.md
SIDE_PROFILES = {"cpu-digits": "digits", "cpu-8mode": "8mode"}
Score = Callable[[np.ndarray], dict[str, float]]


@dataclasses.dataclass(frozen=True)
class Problem:
    """What :func:`preflight` resolved: the data, the device mesh and the shared network."""

    sample_data: SampleFn
    x_shape: tuple[int, ...]
    test: np.ndarray | None
    mesh: Mesh
    net: nn.Module


def method_config(d: DistillConfig, method: str) -> DistillConfig:
    """The distillation config of a named run: ``di`` is EMD-1, ε only, with cancellation;
    ``emd*`` variants change one setting of ``d`` (``emd2``/``emd4``/``emd16``: that K)."""
    if method == "di":
        return dataclasses.replace(d, K=1, space="eps", cancel_noise=True)
    if method == "emd":
        return dataclasses.replace(d)
    if method == "emd_nocancel":
        return dataclasses.replace(d, cancel_noise=False)
    if method == "emd_xz":
        return dataclasses.replace(d, space="x_z")
    if method in ("emd2", "emd4", "emd16"):
        return dataclasses.replace(d, K=int(method[3:]))
    if method == "emd_eps":
        return dataclasses.replace(d, space="eps")
    raise UserError(f"unknown method {method!r}; expected one of {METHODS}")


def check_config(cfg: Config, n_devices: int = 1) -> None:
    """Cross-field checks the per-field validation cannot express (one-line ``UserError``)."""
    for name, values in (("seeds", cfg.seeds), ("methods", cfg.methods)):
        if len(set(values)) != len(values):
            raise UserError(f"--{name}: {list(values)} names an entry twice")
    if cfg.distill.steps % cfg.eval.chunk:
        raise UserError(
            f"distill.steps={cfg.distill.steps} must be a multiple of eval.chunk={cfg.eval.chunk}"
        )
    if cfg.distill.u_min >= cfg.distill.u_max:
        raise UserError("distill.u_min must be smaller than distill.u_max")
    if cfg.teacher.lambda_min >= cfg.teacher.lambda_max:
        raise UserError("teacher.lambda_min must be smaller than teacher.lambda_max")
    if cfg.data.dataset == "images" and cfg.teacher.arch != "unet":
        raise UserError("data.dataset=images needs teacher.arch=unet")
    for name, batch in (("teacher.batch", cfg.teacher.batch), ("distill.batch", cfg.distill.batch)):
        if batch % n_devices:
            raise UserError(f"{name}={batch} is not divisible by the {n_devices} devices")


def preflight(cfg: Config) -> Problem:
    """Every check before the first step: cross-field values, the data (path, format, image
    size), the devices (batch split) and the network for the data's shape."""
    mesh = data_mesh()  # devices chosen here, never at import
    check_config(cfg, mesh.size)
    sample_data, x_shape, test = data_mod.load(cfg.data)
    net = train.build_net(cfg.teacher, x_shape)
    return Problem(sample_data, x_shape, test, mesh, net)


@dataclasses.dataclass(frozen=True)
class Teacher:
    """The trained teacher and what every distillation unit shares: the network's apply, ψ,
    the one-step sampler and the sample metrics."""

    apply: ApplyFn
    psi: Params
    gen: Callable[[Params, jax.Array, int], jax.Array]
    score: Score


def _time_sampler(fn: Any, repeats: int = 3) -> float:
    """Median wall time of ``fn()`` after one warm-up call (``block_until_ready``)."""
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _scorer(cfg: Config, p: Problem, k_ref: jax.Array) -> tuple[np.ndarray | None, Score]:
    """The reference sample and the sample metrics of the configured dataset."""
    ev = cfg.eval
    if cfg.data.dataset in data_mod.MIXTURES:
        mixture = data_mod.MIXTURES[cfg.data.dataset]
        ref = np.asarray(mixture.sample(k_ref, ev.n_samples))
        return ref, lambda x: mixture_metrics(x, ref, ev.mmd_samples, mixture)
    if cfg.data.dataset == "digits":
        return p.test, lambda x: digits_metrics(x, p.test, ev.mmd_samples)
    return None, lambda x: {}  # images: FID needs Inception features, not available offline


def _unit_run(cfg: Config, session: Session, folder: Path, seed: int) -> Run:
    """The unit's log (``metrics.jsonl``, ``run.json``) in its own folder."""
    return Run("emd", session.profile, to_dict(cfg), seed=seed, folder=folder, tensorboard=False)


def teacher_unit(
    cfg: Config, p: Problem, key: jax.Array, folder: Path, session: Session
) -> dict[str, Any]:
    """Unit ``teacher``: train ψ (resumable); its parameters, chunk losses and training time."""
    with _unit_run(cfg, session, folder, cfg.teacher_seed) as run:
        ckpt = Checkpoints(folder / "checkpoints", cfg)
        hooks = train.Hooks(ckpt, run.progress, session.boundary, "teacher")
        t0 = time.perf_counter()
        psi, losses = train.train_teacher(
            cfg.teacher, p.net, p.sample_data, p.x_shape, key, p.mesh, hooks
        )
        run.log(cfg.teacher.steps, teacher_dsm_loss=losses[-1])
    return {"psi": jax.device_get(psi), "losses": losses, "train_s": time.perf_counter() - t0}


def references_unit(
    cfg: Config, p: Problem, t: Teacher, k_sample: jax.Array, k_c1: jax.Array
) -> dict[str, Any]:
    """Unit ``references``: per-seed metrics of the teacher's samples at 200 and at few NFE, of
    the teacher's samples with the rare modes removed (positive control) and of a Gaussian
    fitted to the data (the gates' references), C1 per seed, and the sampling cost per NFE."""
    n, mixture = cfg.eval.n_samples, data_mod.MIXTURES.get(cfg.data.dataset)
    k_teacher, k_fit = jax.random.split(k_sample)
    fit_data = np.asarray(p.sample_data(k_fit, n)) if len(p.x_shape) == 1 else None
    nfes = (*cfg.eval.nfe, cfg.teacher.sample_steps)
    samplers = {f: train.make_teacher_sampler(t.apply, cfg.teacher, n, p.x_shape, f) for f in nfes}
    names = ["teacher", "gaussian_fit", "teacher_no_rare", *(f"teacher_nfe{f}" for f in nfes)]
    refs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    x_first: dict[str, np.ndarray] = {}
    for seed in cfg.seeds:
        k_seed = jax.random.fold_in(k_teacher, seed)
        for f in nfes:
            x = np.asarray(samplers[f](t.psi, k_seed))
            x_first.setdefault(f"teacher_nfe{f}", x[: report.FIGURE_SAMPLES])
            refs[f"teacher_nfe{f}"].append(t.score(x))
        refs["teacher"].append(refs[f"teacher_nfe{cfg.teacher.sample_steps}"][-1])
        x_drop = without_rare_modes(x, mixture, seed) if mixture is not None else None
        refs["teacher_no_rare"].append(t.score(x_drop) if x_drop is not None else {})
        # images: no metric to score a Gaussian with (and a full covariance would be huge)
        gauss = gaussian_fit_sample(fit_data, n, seed) if fit_data is not None else None
        refs["gaussian_fit"].append(t.score(gauss) if gauss is not None else {})
    # C1 at the trained teacher, one draw per seed: EMD-1 (ε only, cancelled) vs DI.
    lam_range = (cfg.teacher.lambda_min, cfg.teacher.lambda_max)
    c1 = [
        c1_gradients(t.apply, t.psi, cfg.distill, p.x_shape, lam_range, jax.random.fold_in(k_c1, s))
        for s in cfg.seeds
    ]
    # Sampling cost of the one-step generator vs the teacher sampler at each NFE (same network).
    n_t = cfg.eval.timing_samples
    timing = {"sampling_s_per_1000/generator": _time_sampler(lambda: t.gen(t.psi, k_sample, n_t))}
    for f in nfes:
        tsamp = train.make_teacher_sampler(t.apply, cfg.teacher, n_t, p.x_shape, f)
        timing[f"sampling_s_per_1000/teacher_nfe{f}"] = _time_sampler(
            lambda s=tsamp: s(t.psi, k_sample)
        )
    timing = {k: 1000 * v / n_t for k, v in timing.items()}
    return {**refs, "x_teacher": x_first, "c1": [c["rel_diff"] for c in c1], "timing": timing}


def distill_unit(
    cfg: Config, p: Problem, t: Teacher, method: str, seed: int, folder: Path, session: Session
) -> dict[str, Any]:
    """Unit ``<method>-seed<seed>``: distil ψ (resumable), seeded from ``1000 + seed`` alone.

    The ``emd`` run also measures, at each evaluated state (θ, φ frozen), C2
    (``variance.fixed_state_variance`` over ``eval.grad_batches`` minibatches) and, on the 2-D
    mixtures, the E-step's KL to its target per chain length (``estep_kl.estep_kl``, C7)."""
    dcfg, ev, name = method_config(cfg.distill, method), cfg.eval, f"{method}-seed{seed}"
    lam_range = (cfg.teacher.lambda_min, cfg.teacher.lambda_max)
    k_run, k_eval = jax.random.split(jax.random.key(1000 + seed))
    k_var, k_kl = jax.random.fold_in(k_eval, 1), jax.random.fold_in(k_eval, 2)
    mixture = data_mod.MIXTURES.get(cfg.data.dataset)
    with _unit_run(cfg, session, folder, seed) as run:

        def evaluate(state: DistillState, step: int) -> dict[str, float]:
            m = t.score(np.asarray(t.gen(state.theta, k_eval, ev.n_samples)))
            if method == "emd" and step > 0:  # at step 0, φ = θ = ψ: no gradient at all
                m |= fixed_state_variance(
                    t.apply, dcfg, state.theta, state.phi, t.psi, p.x_shape, lam_range,
                    jax.random.fold_in(k_var, step), ev.grad_batches,
                )  # fmt: skip
                if mixture is not None:
                    m |= estep_kl(
                        t.apply, dcfg, state.theta, state.phi, t.psi, mixture,
                        jax.random.fold_in(k_kl, step), ev.kl_chains,
                    )  # fmt: skip
            run.log(step, m)
            return m

        ckpt = Checkpoints(folder / "checkpoints", cfg)
        hooks = train.Hooks(ckpt, run.progress, session.boundary, name)
        state, hist = train.distill(
            dcfg, t.apply, t.psi, p.x_shape, lam_range, k_run, p.mesh, ev.chunk, evaluate, hooks
        )
        train.save_params(folder / "theta.npz", state.theta)
        samples = np.asarray(t.gen(state.theta, k_eval, ev.n_samples))
    return {"hist": hist, "final": hist["evals"][-1], "x": samples[: report.FIGURE_SAMPLES]}


def experiment(
    cfg: Config, profile: str, p: Problem, session: Session, argv: list[str]
) -> tuple[dict[str, Any], list[Path], str]:
    """Run (or reuse) every unit and write the report; returns the document, paths and where."""
    apply = make_apply(p.net)
    key = jax.random.key(cfg.teacher_seed)
    k_teacher, k_ref, k_sample = jax.random.split(key, 3)
    ref, score = _scorer(cfg, p, k_ref)
    teacher = session.unit("teacher", lambda d: teacher_unit(cfg, p, k_teacher, d, session))
    gen = train.make_generator_sampler(apply, cfg.distill.lambda_star, p.x_shape)
    t = Teacher(apply, replicate(teacher["psi"], p.mesh), gen, score)
    k_c1 = jax.random.fold_in(key, 1)
    refs = session.unit("references", lambda _: references_unit(cfg, p, t, k_sample, k_c1))
    results: dict[str, dict[int, Any]] = {m: {} for m in cfg.methods}
    for seed in cfg.seeds:
        for method in cfg.methods:
            results[method][seed] = session.unit(
                f"{method}-seed{seed}",
                lambda d, m=method, s=seed: distill_unit(cfg, p, t, m, s, d, session),
            )
    ref_names = [k for k in refs if k.startswith(("teacher", "gaussian_fit")) and k != "x_teacher"]
    by_seed = {name: dict(zip(cfg.seeds, refs[name])) for name in ref_names}
    per_seed = report.collect(list(cfg.seeds), results, by_seed)
    per_seed["c1/rel_grad_diff"] = refs["c1"]
    evid = evidence(profile, cfg.data.dataset, cfg.seeds, cfg.distill.K, per_seed, refs["timing"])
    target = report_place(profile, cfg, session)
    section = profile if target.committed and profile in SIDE_PROFILES else None
    info = {
        "teacher_train_s": teacher["train_s"],
        "nfe": {"generator": 1, "teacher": [*cfg.eval.nfe, cfg.teacher.sample_steps]},
        "config": {
            "dataset": cfg.data.dataset,
            "methods": list(cfg.methods),
            "K": cfg.distill.K,
            "distill_steps": cfg.distill.steps,
            "batch": cfg.distill.batch,
            "weighting": cfg.distill.weighting,
            "teacher_seed": cfg.teacher_seed,
        },
    }
    command = (
        "make reproduce PROJECT=emd" + (f" PROFILE={section}" if section else "")
        if target.committed
        else " ".join(["python -m emd.reproduce --profile", profile, *argv_overrides(argv)])
    )
    labels, prefix = report.labels(cfg.distill.K), f"{SIDE_PROFILES[section]}_" if section else ""
    figs = figures(
        cfg, target.dir, results, refs["x_teacher"], ref, evid.to_dict(None), labels, prefix
    )
    doc, written = report.write(
        cfg, target, evid, figs, session.wall_time_s, info, command, section
    )
    return doc, written, target.why


def report_place(profile: str, cfg: Config, session: Session) -> ReportTarget:
    """``report_target``; an unmodified side profile (``SIDE_PROFILES``) also writes the
    committed ``results/cpu/`` (its ``<tag>_*`` files and a marked section of RESULTS.md)."""
    if profile in SIDE_PROFILES:
        profiles = {"cpu": PROFILES[profile]}  # committed when cfg equals that profile
        return report_target("emd", "cpu", cfg, profiles, __file__, session, out=cfg.out)
    return report_target("emd", profile, cfg, PROFILES, __file__, session, out=cfg.out)


def argv_overrides(argv: list[str]) -> list[str]:
    """The command-line overrides without ``--profile`` and ``--out`` (machine paths)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in ("--profile", "--out"):
            skip = True
        elif not a.startswith(("--profile=", "--out=")):
            out.append(a)
    return out


def run(argv: list[str], fresh: bool) -> None:
    """``python -m emd.reproduce``: parse, check everything, then the session's units."""
    profile, cfg = parse({k: f() for k, f in PROFILES.items()}, argv, prog=PROG)
    problem = preflight(cfg)
    with Session("emd", profile, cfg, fresh=fresh) as session:
        header(
            session,
            expected=EXPECTED[profile],
            seeds=cfg.seeds,
            methods=cfg.methods,
            teacher=f"{cfg.teacher.arch}, {cfg.teacher.steps} steps (unit 'teacher')",
        )
        doc, written, why = experiment(cfg, profile, problem, session, argv)
        footer(session, doc, written, why=why)


def main(argv: list[str] | None = None) -> None:
    """The console entry: :func:`run` under ``reprokit.lifecycle.entry`` (never returns)."""
    entry(PROG, run, argv)


if __name__ == "__main__":
    main()
