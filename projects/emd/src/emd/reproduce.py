"""Entry point: ``python -m emd.reproduce --profile {smoke,cpu,paper} [--key value ...]``.

Trains the teacher, distils it with each configured method over the seeds, evaluates, and writes
``metrics.json``, figures and RESULTS.md (``results/<profile>/`` or ``--out``).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emd.configs import METHODS, PROFILES, Config, DistillConfig
from reprokit.claims import MIN_SEEDS


def method_config(d: DistillConfig, method: str) -> DistillConfig:
    """The distillation config of a named run: ``di`` is EMD-1, ε only, with cancellation;
    ``emd*`` variants change one setting of ``d`` (``emd16``: K = 16)."""
    if method == "di":
        return dataclasses.replace(d, K=1, space="eps", cancel_noise=True)
    if method == "emd":
        return dataclasses.replace(d)
    if method == "emd_nocancel":
        return dataclasses.replace(d, cancel_noise=False)
    if method == "emd_xz":
        return dataclasses.replace(d, space="x_z")
    if method == "emd16":
        return dataclasses.replace(d, K=16)
    if method == "emd_eps":
        return dataclasses.replace(d, space="eps")
    raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")


def check_config(cfg: Config) -> None:
    """Cross-field checks the per-field validation cannot express (one-line ``ValueError``)."""
    for m in cfg.methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r} in methods; expected some of {METHODS}")
    if cfg.distill.steps % cfg.eval.chunk:
        raise ValueError(
            f"distill.steps={cfg.distill.steps} must be a multiple of eval.chunk={cfg.eval.chunk}"
        )
    if cfg.distill.u_min >= cfg.distill.u_max:
        raise ValueError("distill.u_min must be smaller than distill.u_max")
    if cfg.teacher.lambda_min >= cfg.teacher.lambda_max:
        raise ValueError("teacher.lambda_min must be smaller than teacher.lambda_max")
    if len(cfg.seeds) < MIN_SEEDS:
        raise ValueError(
            f"seeds: the claims need >= {MIN_SEEDS} distillation seeds (reprokit.claims), "
            f"got {len(cfg.seeds)}"
        )
    if cfg.data.dataset == "images" and cfg.teacher.arch != "unet":
        raise ValueError("data.dataset=images needs teacher.arch=unet")


def _time_sampler(fn: Any, repeats: int = 3) -> float:
    """Median wall time of ``fn()`` after one warm-up call (``block_until_ready``)."""
    import jax

    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _references(
    cfg: Config,
    apply: Any,
    psi: Any,
    sample_data: Any,
    x_shape: tuple[int, ...],
    score: Any,
    key: Any,
) -> tuple[dict[str, dict[int, dict[str, float]]], np.ndarray]:
    """Per-seed sample metrics of the teacher and of a Gaussian fitted to the data (the gates'
    references); returns them and the first seed's teacher samples (for the figure)."""
    import jax

    from emd import train
    from emd.metrics import gaussian_fit_sample

    n = cfg.eval.n_samples
    refs: dict[str, dict[int, dict[str, float]]] = {"teacher": {}, "gaussian_fit": {}}
    k_teacher, k_fit = jax.random.split(key)
    fit_data = np.asarray(sample_data(k_fit, n)) if len(x_shape) == 1 else None
    sample = train.make_teacher_sampler(apply, cfg.teacher, n, x_shape)
    x0 = None
    for seed in cfg.seeds:
        x = np.asarray(sample(psi, jax.random.fold_in(k_teacher, seed)))
        x0 = x if x0 is None else x0
        refs["teacher"][seed] = score(x)
        # images: no metric to score a Gaussian with (and a full covariance would be huge)
        gauss = gaussian_fit_sample(fit_data, n, seed) if fit_data is not None else None
        refs["gaussian_fit"][seed] = score(gauss) if gauss is not None else {}
    return refs, x0


def main(cfg: Config, profile: str) -> dict[str, Any]:
    """Run the whole experiment for ``profile``; returns the metrics document (metrics.json)."""
    import jax

    from emd import data as data_mod
    from emd import report, train
    from emd.claims import evidence
    from emd.distill import c1_gradients
    from emd.metrics import digits_metrics, mixture_metrics
    from emd.model import make_apply
    from reprokit.jax_utils import data_mesh
    from reprokit.report import console_summary, results_dir
    from reprokit.runlog import Run

    check_config(cfg)
    t_start = time.perf_counter()
    out = results_dir("emd", profile, anchor=__file__, out=cfg.out)
    sample_data, x_shape, test = data_mod.load(cfg.data)
    mesh = data_mesh()  # devices chosen here, never at import
    tcfg, ev = cfg.teacher, cfg.eval
    lam_range = (tcfg.lambda_min, tcfg.lambda_max)
    net = train.build_net(tcfg, x_shape)
    apply = make_apply(net)
    key = jax.random.key(cfg.teacher_seed)
    k_teacher, k_ref, k_tsample = jax.random.split(key, 3)

    if cfg.data.dataset == "mixture2d":
        ref = np.asarray(data_mod.mixture_sample(k_ref, ev.n_samples))
        score = lambda x: mixture_metrics(x, ref, ev.mmd_samples)  # noqa: E731
    elif cfg.data.dataset == "digits":
        ref = test
        score = lambda x: digits_metrics(x, ref, ev.mmd_samples)  # noqa: E731
    else:  # images: FID needs Inception features, not available offline (see README)
        ref, score = None, lambda x: {}

    runs_root = Path(cfg.out) / "runs" if cfg.out is not None else None
    with Run(
        project="emd", profile=profile, config=cfg, seed=cfg.teacher_seed, root=runs_root
    ) as run:
        t0 = time.perf_counter()
        psi, t_losses = train.train_teacher(tcfg, net, sample_data, x_shape, k_teacher, mesh)
        teacher_s = time.perf_counter() - t0
        train.save_params(run.dir / "teacher.npz", psi)
        run.log(tcfg.steps, teacher_dsm_loss=t_losses[-1])
        refs, x_teacher = _references(cfg, apply, psi, sample_data, x_shape, score, k_tsample)

        # Sampling cost of the one-step generator vs the teacher sampler (same network).
        gen = train.make_generator_sampler(apply, cfg.distill.lambda_star, x_shape)
        n_t = ev.timing_samples
        t_gen = _time_sampler(lambda: gen(psi, k_tsample, n_t))
        tsamp = train.make_teacher_sampler(apply, tcfg, n_t, x_shape)
        t_teach = _time_sampler(lambda: tsamp(psi, k_tsample))

        # C1 at the trained teacher, one draw per seed: EMD-1 (ε only, cancelled) vs DI.
        k_c1 = jax.random.fold_in(key, 1)
        c1 = [
            c1_gradients(apply, psi, cfg.distill, x_shape, lam_range, jax.random.fold_in(k_c1, s))[
                "rel_diff"
            ]
            for s in cfg.seeds
        ]

        results: dict[str, dict[int, Any]] = {m: {} for m in cfg.methods}
        for seed in cfg.seeds:
            for method in cfg.methods:
                dcfg = method_config(cfg.distill, method)
                k_run, k_eval = jax.random.split(jax.random.key(1000 + seed))

                def evaluate(theta, step, method=method, seed=seed, k_eval=k_eval):
                    m = score(np.asarray(gen(theta, k_eval, ev.n_samples)))
                    run.log(step, {f"{method}/s{seed}/{k}": v for k, v in m.items()})
                    return m

                state, hist = train.distill(
                    dcfg, apply, psi, x_shape, lam_range, k_run, mesh, ev.chunk, evaluate
                )
                train.save_params(run.dir / f"theta-{method}-{seed}.npz", state.theta)
                samples = np.asarray(gen(state.theta, k_eval, ev.n_samples))
                results[method][seed] = {"hist": hist, "final": hist["evals"][-1], "x": samples}

        per_seed = report.collect(list(cfg.seeds), results, refs)
        per_seed["c1/rel_grad_diff"] = c1
        once = {
            "sampling_s_per_1000/generator": 1000 * t_gen / n_t,
            "sampling_s_per_1000/teacher": 1000 * t_teach / n_t,
        }
        evid = evidence(profile, cfg.seeds, cfg.distill.K, per_seed, once)
        figs = report.figures(cfg, out, results, x_teacher, ref)
        info = {
            "teacher_train_s": teacher_s,
            "nfe": {"generator": 1, "teacher": tcfg.sample_steps},
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
        doc = report.write(cfg, profile, out, evid, figs, time.perf_counter() - t_start, info)
        print(console_summary(doc))
        run.finish(doc)
    return doc


def cli(argv: Sequence[str] | None = None) -> int:
    """Parse the command line (one-line errors, exit 2) and run ``main``."""
    from reprokit.config import parse

    profile, cfg = parse({k: f() for k, f in PROFILES.items()}, argv, prog="emd.reproduce")
    try:
        check_config(cfg)
        main(cfg, profile)
    except ValueError as e:  # bad input found after parsing (paths, cross-field checks)
        print(f"emd.reproduce: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
