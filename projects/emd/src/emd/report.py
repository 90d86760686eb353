"""Aggregate runs over seeds, decide the claims, draw figures, write metrics.json and RESULTS.md."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from emd.configs import Config
from reprokit import plots
from reprokit.report import Claim, format_mean_std, summarize, write_metrics, write_results

T_MIN = 2.0  # Welch t a "beats" claim needs (n = 3 seeds per arm)
LABELS = {
    "di": "Diff-Instruct (EMD-1, ε only)",
    "emd": "EMD-K (ε, z)",
    "emd_nocancel": "EMD-K, no noise cancellation",
    "emd_xz": "EMD-K (x, z)",
    "emd_eps": "EMD-K (ε only)",
    "emd16": "EMD-16 (ε, z)",
}


def _scatter_panels(panels: dict[str, np.ndarray], path: Path) -> Path:
    """One 2-D scatter panel per entry, shared limits."""
    n = len(panels)
    fig = Figure(figsize=(3 * n, 3.2))
    for i, (name, x) in enumerate(panels.items()):
        ax = fig.add_subplot(1, n, i + 1)
        ax.scatter(x[:2000, 0], x[:2000, 1], s=2, alpha=0.4, linewidths=0)
        ax.set_xlim(-2.2, 2.2)
        ax.set_ylim(-2.2, 2.2)
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def welch_t(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Welch t of ``mean(b) − mean(a)`` from two :func:`summarize` dicts (NaN if n < 2)."""
    if min(a["n"], b["n"]) < 2:
        return float("nan")
    se = np.sqrt(a["std"] ** 2 / max(a["n"], 1) + b["std"] ** 2 / max(b["n"], 1))
    diff = b["mean"] - a["mean"]
    return float(diff / se) if se > 0 else float(np.sign(diff) * np.inf)


def _running_median(x: np.ndarray, w: int) -> np.ndarray:
    w = max(1, min(w, len(x)))
    return np.array([np.median(x[max(0, i - w + 1) : i + 1]) for i in range(0, len(x), w)])


def write_report(
    cfg: Config,
    profile: str,
    out: Path,
    results: dict[str, dict[int, dict[str, Any]]],
    teacher_metrics: dict[str, float],
    x_teacher: np.ndarray,
    ref: np.ndarray | None,
    timing: dict[str, float],
    c1: dict[str, float],
    teacher_s: float,
    t_start: float,
) -> tuple[dict[str, Any], str]:
    """Write ``out/metrics.json``, figures, and RESULTS.md; returns ``(metrics, notes)``."""
    seeds = list(cfg.seeds)
    K = cfg.distill.K
    labels = {m: v.replace("EMD-K", f"EMD-{K}") for m, v in LABELS.items()}
    per: dict[str, dict[str, Any]] = {}
    for method, runs in results.items():
        finals = [runs[s]["final"] for s in seeds]
        keys = finals[0].keys()
        per[method] = {k: summarize([f[k] for f in finals]) for k in keys}
        per[method]["grad_norm_median"] = summarize(
            [np.median(runs[s]["hist"]["grad_norm"]) for s in seeds]
        )
        per[method]["steps_per_s"] = summarize([runs[s]["hist"]["steps_per_s"] for s in seeds])
        if "mmd" in keys:  # mean over the last 3 evaluations: less sensitive to the endpoint
            per[method]["mmd_tail"] = summarize(
                [np.mean([e["mmd"] for e in runs[s]["hist"]["evals"][-3:]]) for s in seeds]
            )

    def has(*ms: str) -> bool:
        return all(m in per for m in ms)

    def get(m: str, k: str) -> dict[str, Any] | None:
        return per.get(m, {}).get(k)

    n_t = timing["n"]
    speedup = timing["teacher_s"] / timing["generator_s"]
    metrics: dict[str, Any] = {
        "teacher_modes_covered": teacher_metrics.get("modes_covered"),
        "teacher": teacher_metrics,
        "teacher_train_s": teacher_s,
        "c1_rel_grad_diff": c1["rel_diff"],
        "c1": c1,
        "c5_sampling_speedup": speedup,
        "c5_nfe_ratio": cfg.teacher.sample_steps / 1.0,
        "c5_generator_s_per_1000": 1000 * timing["generator_s"] / n_t,
        "c5_teacher_s_per_1000": 1000 * timing["teacher_s"] / n_t,
        "K": K,
        "distill_steps": cfg.distill.steps,
        "methods": per,
    }
    if has("emd", "emd_nocancel"):
        metrics["c2_grad_norm_ratio"] = summarize(
            [
                np.median(results["emd_nocancel"][s]["hist"]["grad_norm"])
                / np.median(results["emd"][s]["hist"]["grad_norm"])
                for s in seeds
            ]
        )
    for m, prefix in (("emd", "c3_emd"), ("di", "c3_di"), ("emd16", "c3_emd16")):
        keys = ("modes_covered", "mmd", "mmd_tail", "kl_weights", "on_mode", "sliced_w", "recall")
        keys += ("proxy_fid",)
        for k in keys:
            if get(m, k) is not None:
                metrics[f"{prefix}_{k}"] = get(m, k)
    for m, prefix in (("emd", "c4_eps_z"), ("emd_xz", "c4_x_z")):
        if get(m, "mmd") is not None:
            metrics[f"{prefix}_mmd"] = get(m, "mmd")
            metrics[f"{prefix}_modes_covered"] = get(m, "modes_covered")

    claims: list[Claim] = []
    fmt = lambda d: format_mean_std(d) if d is not None else "—"  # noqa: E731
    claims.append(
        Claim(
            text="C1: EMD-1 (ε only, noise cancelled) gives the Diff-Instruct gradient",
            metric="c1_rel_grad_diff",
            paper="exact equivalence (§3.5)",
            ours=f"max |Δgrad| / max |grad| = {c1['rel_diff']:.1e}",
            baseline="tolerance 1e-5",
            held=c1["rel_diff"] < 1e-5,
        )
    )
    if "c2_grad_norm_ratio" in metrics:
        r = metrics["c2_grad_norm_ratio"]
        cov_c, cov_n = get("emd", "modes_covered"), get("emd_nocancel", "modes_covered")
        kl_c, kl_n = get("emd", "kl_weights"), get("emd_nocancel", "kl_weights")
        worse = cov_c is not None and (
            cov_n["mean"] < cov_c["mean"]
            or (cov_n["mean"] == cov_c["mean"] and kl_n["mean"] > kl_c["mean"])
        )
        claims.append(
            Claim(
                text=f"C2: without noise cancellation (EMD-{K}) the median generator gradient "
                "norm is ≥ 10× higher and coverage worse",
                metric="c2_grad_norm_ratio",
                paper="cancellation lowers grad norm and FID (Fig. 3a-b)",
                ours=f"ratio {fmt(r)}; modes {fmt(cov_n)} (KL {fmt(kl_n)}) without vs "
                f"{fmt(cov_c)} (KL {fmt(kl_c)}) with",
                baseline="EMD with cancellation",
                held=bool(r["mean"] >= 10 and worse),
            )
        )
    for m, k_m in (("emd", K), ("emd16", 16)):
        if not (has(m, "di") and get(m, "mmd") is not None):
            continue
        e_m, d_m = get(m, "mmd"), get("di", "mmd")
        # coverage: modes covered (2-D mixture) or k-NN recall in proxy features (digits)
        cov = "modes_covered" if get(m, "modes_covered") is not None else "recall"
        e_c, d_c = get(m, cov), get("di", cov)
        t = welch_t(e_m, d_m)
        metrics[f"c3_{m}_mmd_welch_t"] = t if np.isfinite(t) else None
        better = t >= T_MIN and (e_c is None or e_c["mean"] >= d_c["mean"])
        claims.append(
            Claim(
                text=f"C3: EMD-{k_m} beats Diff-Instruct at matched generator steps "
                f"({cfg.distill.steps}): lower final MMD (Welch t ≥ {T_MIN:g}), ≥ coverage "
                "(pre-registered)",
                metric=f"c3_{m}_mmd, c3_{m}_{cov}",
                paper="ImageNet-64 FID 2.20 (EMD-16) vs 5.57 (DI)",
                ours=f"MMD {fmt(e_m)} (t = {t:.1f}); {cov} {fmt(e_c)}; "
                f"last-3-eval MMD {fmt(get(m, 'mmd_tail'))}",
                baseline=f"DI: MMD {fmt(d_m)}; {cov} {fmt(d_c)}; "
                f"last-3-eval MMD {fmt(get('di', 'mmd_tail'))}",
                held=bool(better),
            )
        )
    if has("emd", "emd_xz") and get("emd", "mmd") is not None:
        e_m, x_m = get("emd", "mmd"), get("emd_xz", "mmd")
        t = welch_t(e_m, x_m)
        metrics["c4_mmd_welch_t"] = t if np.isfinite(t) else None
        claims.append(
            Claim(
                text=f"C4: (ε, z) sampling beats (x, z) sampling at equal step size (EMD-{K}): "
                f"lower final MMD, Welch t ≥ {T_MIN:g}",
                metric="c4_eps_z_mmd, c4_x_z_mmd",
                paper="Table 1: (ε, z) best FID/IS",
                ours=f"(ε, z): MMD {fmt(e_m)} (t = {t:.1f})",
                baseline=f"(x, z): MMD {fmt(x_m)}",
                held=bool(t >= T_MIN),
            )
        )
    best = "emd" if "emd" in per else next(iter(per), None)
    gap = ""
    if best is not None and get(best, "mmd") is not None and "mmd" in teacher_metrics:
        gap = f"; MMD {fmt(get(best, 'mmd'))} vs teacher {teacher_metrics['mmd']:.4f}"
    claims.append(
        Claim(
            text="C5: one-step generator needs ≥ 50× fewer network evaluations and less wall "
            "time per sample than the teacher sampler",
            metric="c5_sampling_speedup, c5_nfe_ratio",
            paper="1 NFE vs 79 (EDM Heun, ImageNet-64)",
            ours=f"NFE 1 vs {cfg.teacher.sample_steps}; wall-time speedup {speedup:.0f}×{gap}",
            baseline=f"teacher {metrics['c5_teacher_s_per_1000']:.3f} s / 1000 samples",
            held=bool(cfg.teacher.sample_steps >= 50 and speedup > 1),
        )
    )

    figures: dict[str, Path] = {}
    s0 = seeds[0]
    if ref is not None and np.asarray(ref).shape[-1] == 2:
        panels = {"data": ref, f"teacher ({cfg.teacher.sample_steps} NFE)": x_teacher}
        panels |= {labels[m] + " (1 NFE)": results[m][s0]["x"] for m in results}
        figures[f"Samples (seed {s0}) after {cfg.distill.steps} generator steps"] = _scatter_panels(
            panels, out / "samples.png"
        )
    elif ref is not None:
        rows = {"teacher": x_teacher[:8]} | {labels[m]: results[m][s0]["x"][:8] for m in results}
        figures["Samples (first 8)"] = plots.image_rows(
            {k: v.reshape(-1, 1, 8, 8) for k, v in rows.items()}, out / "samples.png"
        )
    if results and "mmd" in next(iter(results.values()))[s0]["final"]:
        steps = results[next(iter(results))][s0]["hist"]["steps"]
        curves = {
            labels[m]: (
                steps,
                np.array([[e["mmd"] for e in results[m][s]["hist"]["evals"]] for s in seeds]),
            )
            for m in results
        }
        figures["MMD² to data vs generator steps (mean ± std over seeds)"] = plots.learning_curves(
            curves, out / "mmd_curves.png", ylabel="RBF-MMD²", logy=True
        )
    w = max(1, cfg.distill.steps // 50)
    gcurves = {}
    for m in results:
        g = np.stack([_running_median(results[m][s]["hist"]["grad_norm"], w) for s in seeds])
        gcurves[labels[m]] = (np.arange(g.shape[1]) * w, g)
    figures["Generator gradient norm (running median)"] = plots.learning_curves(
        gcurves, out / "grad_norm.png", ylabel="‖∇θ‖", logy=True
    )

    wall = time.perf_counter() - t_start
    metrics["wall_time_s"] = wall
    metrics_path = write_metrics(out / "metrics.json", metrics)
    tails = [
        f"{labels[m]} vs DI: t = {welch_t(get(m, 'mmd_tail'), get('di', 'mmd_tail')):.1f}"
        for m in ("emd", "emd16")
        if get(m, "mmd_tail") is not None and get("di", "mmd_tail") is not None
    ]
    sps = ", ".join(f"{m} {per[m]['steps_per_s']['mean']:.1f}" for m in per)
    notes = (
        f"Teacher: {cfg.teacher.arch} trained {cfg.teacher.steps} steps in {teacher_s:.0f} s; "
        f"its own {cfg.teacher.sample_steps}-step samples: "
        + ", ".join(f"{k} = {v:.4g}" for k, v in teacher_metrics.items())
        + f".\n\nTraining speed (generator steps/s, this machine): {sps}.\n\n"
        + (
            "Welch t of the MMD averaged over the last three evaluations (positive: EMD lower): "
            + "; ".join(tails)
            + ".\n\n"
            if tails
            else ""
        )
        + f"All methods share one teacher (seed {cfg.teacher_seed}); seeds vary the distillation."
    )
    if cfg.out is None and profile == "cpu":
        results_md = out.parent.parent / "RESULTS.md"
    else:
        results_md = out / "RESULTS.md"
    write_results(
        results_md,
        title=f"EMD — {profile} profile ({cfg.data.dataset})",
        claims=claims,
        figures=figures,
        wall_time_s=wall,
        command=f"python -m emd.reproduce --profile {profile}",
        profile=profile,
        seeds=seeds,
        notes=notes,
        metrics_path=metrics_path,
    )
    return metrics, notes
