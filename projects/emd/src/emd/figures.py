"""The report's figures: rare-mode samples, learning curves, the fixed-state gradient variance
(C2), the K sweep (C5) and the NFE curve (C6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from emd.claims import CENTRAL, K_SWEEP, KL_KS, TAIL
from emd.configs import Config
from emd.data import MIXTURES, Mixture
from reprokit import plots

Runs = Mapping[str, Mapping[int, Mapping[str, Any]]]  # method -> seed -> {hist, final, x}
SCATTER = 2000  # samples per panel
SCATTER_METHODS = ("di", "emd", "emd16", "emd_nocancel", "emd_xz")


def _scatter_panels(
    panels: dict[str, np.ndarray], path: Path, mixture: Mixture | None = None
) -> Path:
    """One 2-D scatter panel per entry, shared limits; the rare modes' 4-std circles in red."""
    n = len(panels)
    fig = Figure(figsize=(2.6 * n, 2.9))
    for i, (name, x) in enumerate(panels.items()):
        ax = fig.add_subplot(1, n, i + 1)
        ax.scatter(x[:SCATTER, 0], x[:SCATTER, 1], s=2, alpha=0.4, linewidths=0)
        if mixture is not None:
            for centre, std in zip(mixture.means[mixture.rare], mixture.stds[mixture.rare]):
                ax.add_patch(Circle(centre, 4 * std, fill=False, color="C3", lw=0.6))
        ax.set_xlim(-2.4, 2.4)
        ax.set_ylim(-2.4, 2.4)
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _running_median(x: np.ndarray, w: int) -> np.ndarray:
    w = max(1, min(w, len(x)))
    return np.array([np.median(x[max(0, i - w + 1) : i + 1]) for i in range(0, len(x), w)])


def _curves(results: Runs, seeds: Sequence[int], key: str, labels: dict[str, str]) -> dict:
    steps = results[next(iter(results))][seeds[0]]["hist"]["steps"]
    return {
        labels[m]: (
            steps,
            np.array([[e[key] for e in results[m][s]["hist"]["evals"]] for s in seeds]),
        )
        for m in results
    }


def _variance(results: Runs, seeds: Sequence[int], path: Path) -> Path:
    """C2: tr Cov of the M-step gradient at the emd run's states, with / without cancellation."""
    evals = {s: results["emd"][s]["hist"]["evals"][1:] for s in seeds}
    steps = results["emd"][seeds[0]]["hist"]["steps"][1:]
    curves = {
        label: (steps, np.array([[e[key] for e in evals[s]] for s in seeds]))
        for key, label in (
            ("gradvar_nocancel", "without noise cancellation"),
            ("gradvar_cancel", "with noise cancellation"),
        )
    }
    return plots.learning_curves(curves, path, ylabel="tr Cov[∇θ] (fixed state)", logy=True)


def _k_sweep(results: Runs, seeds: Sequence[int], path: Path) -> Path:
    """C5: tail KL against K (equal generator steps) and KL against training seconds."""
    fig = Figure(figsize=(9, 3.4))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    ks, means, stds = [], [], []
    for m, K in K_SWEEP.items():
        tail = [
            np.mean([e[CENTRAL] for e in results[m][s]["hist"]["evals"][-TAIL:]]) for s in seeds
        ]
        ks.append(K), means.append(np.mean(tail)), stds.append(np.std(tail))
        run = results[m][seeds[0]]["hist"]
        secs = np.array(run["steps"]) / run["steps_per_s"]
        kl = np.mean([[e[CENTRAL] for e in results[m][s]["hist"]["evals"]] for s in seeds], 0)
        ax2.plot(secs[1:], kl[1:], marker="o", ms=3, label=f"K = {K}")
    ax1.errorbar(ks, means, yerr=stds, marker="o", capsize=3)
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("K (Langevin steps); equal generator steps")
    ax1.set_ylabel(f"tail {CENTRAL} (mean ± std)")
    ax2.set_xlabel("training seconds (steps / measured steps per s)")
    ax2.set_ylabel(f"{CENTRAL} (mean over seeds)")
    ax2.set_yscale("log")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _nfe(doc: Mapping[str, Any], cfg: Config, path: Path) -> Path:
    """C6: the teacher's MMD² against its NFE, with the one-step EMD generator beside it."""
    ms = doc["metrics"]
    nfes = [*cfg.eval.nfe, cfg.teacher.sample_steps]
    mean = [ms[f"mmd/teacher_nfe{f}"]["mean"] for f in nfes]
    std = [ms[f"mmd/teacher_nfe{f}"]["std"] for f in nfes]
    fig = Figure(figsize=(4.8, 3.4))
    ax = fig.add_subplot(1, 1, 1)
    ax.errorbar(nfes, mean, yerr=std, marker="o", capsize=3, label="teacher (ancestral)")
    emd = ms["mmd_tail/emd"]
    if emd.get("n"):  # missing when the run has no `emd` method
        ax.errorbar([1], [emd["mean"]], yerr=[emd["std"]], marker="s", color="C3", capsize=3,
                    label=f"EMD-{cfg.distill.K}, one step (tail)")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("network evaluations (NFE)")
    ax.set_ylabel("RBF-MMD² to data")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def _estep_kl(doc: Mapping[str, Any], path: Path) -> Path:
    """C7: the E-step's KL(q_K(x_t) ‖ p_t) against the chain length K (tail mean ± std)."""
    ms = doc["metrics"]
    ks = [k for k in KL_KS if ms.get(f"estep_kl_K{k}_tail/emd", {}).get("n")]
    fig = Figure(figsize=(4.8, 3.4))
    ax = fig.add_subplot(1, 1, 1)
    mean = [ms[f"estep_kl_K{k}_tail/emd"]["mean"] for k in ks]
    std = [ms[f"estep_kl_K{k}_tail/emd"]["std"] for k in ks]
    ax.errorbar(ks, mean, yerr=std, marker="o", capsize=3)
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("E-step length K (0 = the generator's noisy marginal)")
    ax.set_ylabel("KL(q_K(x_t) ‖ p_t), mean over λ")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def figures(
    cfg: Config,
    out: Path,
    results: Runs,
    x_teacher: Mapping[str, np.ndarray],
    ref: np.ndarray | None,
    doc: Mapping[str, Any],
    labels: dict[str, str],
    prefix: str = "",
) -> dict[str, Path]:
    """Every figure the run's data allow; caption -> PNG (file names start with ``prefix``)."""
    seeds, s0, figs = list(cfg.seeds), cfg.seeds[0], {}
    two_d = ref is not None and np.asarray(ref).shape[-1] == 2
    teacher_x = x_teacher[f"teacher_nfe{cfg.teacher.sample_steps}"]
    if two_d:
        panels = {"data": ref, f"teacher ({cfg.teacher.sample_steps} NFE)": teacher_x}
        panels |= {
            labels[m] + " (1 NFE)": results[m][s0]["x"] for m in SCATTER_METHODS if m in results
        }
        mixture = MIXTURES.get(cfg.data.dataset)
        figs[
            f"Samples (seed {s0}) after {cfg.distill.steps} generator steps; red: the rare modes"
        ] = _scatter_panels(panels, out / f"{prefix}samples.png", mixture)
        nfe_panels = {f"teacher, {f} NFE": x_teacher[f"teacher_nfe{f}"] for f in cfg.eval.nfe}
        if "emd" in results:
            nfe_panels[labels["emd"] + ", 1 NFE"] = results["emd"][s0]["x"]
        figs["Teacher at few NFE vs one EMD step (samples)"] = _scatter_panels(
            nfe_panels, out / f"{prefix}nfe_samples.png", mixture
        )
    elif ref is not None:
        rows = {"teacher": teacher_x[:8]} | {labels[m]: results[m][s0]["x"][:8] for m in results}
        figs["Samples (first 8)"] = plots.image_rows(
            {k: v.reshape(-1, 1, 8, 8) for k, v in rows.items()}, out / f"{prefix}samples.png"
        )
    final = next(iter(results.values()))[s0]["final"]
    for key, name, ylabel in ((CENTRAL, "kl_curves", "KL(true ‖ sample mode weights)"),
                              ("mmd", "mmd_curves", "RBF-MMD²")):  # fmt: skip
        if key in final:
            figs[f"{ylabel} vs generator steps (mean ± std over seeds)"] = plots.learning_curves(
                _curves(results, seeds, key, labels),
                out / f"{prefix}{name}.png",
                ylabel=ylabel,
                logy=True,
            )
    if "emd" in results and "gradvar_cancel" in results["emd"][s0]["final"]:
        figs["C2: gradient-covariance trace at the EMD run's frozen states"] = _variance(
            results, seeds, out / f"{prefix}gradvar.png"
        )
    if all(m in results for m in K_SWEEP) and CENTRAL in final:
        figs["C5: the K sweep (equal generator steps; equal wall time)"] = _k_sweep(
            results, seeds, out / f"{prefix}k_sweep.png"
        )
    if "mmd_tail/emd" in doc["metrics"] and "mmd/teacher_nfe1" in doc["metrics"]:
        figs["C6: MMD² against NFE, teacher vs one EMD step"] = _nfe(
            doc, cfg, out / f"{prefix}nfe.png"
        )
    if "estep_kl_K0_tail/emd" in doc["metrics"]:
        figs["C7: the E-step's KL to its target against K (EMD run's states)"] = _estep_kl(
            doc, out / f"{prefix}estep_kl.png"
        )
    w = max(1, cfg.distill.steps // 50)
    gcurves = {}
    for m in results:
        g = np.stack([_running_median(results[m][s]["hist"]["grad_norm"], w) for s in seeds])
        gcurves[labels[m]] = (np.arange(g.shape[1]) * w, g)
    figs["Generator gradient norm during training (running median)"] = plots.learning_curves(
        gcurves, out / f"{prefix}grad_norm.png", ylabel="‖∇θ‖", logy=True
    )
    return figs
