"""Per-seed measurements of a run, its figures, metrics.json and RESULTS.md (via ``reprokit``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emd.claims import C2_RATIO, CENTRAL, K_SWEEP, KL_KS, TAIL, TAIL_METRICS
from emd.configs import Config
from emd.estep import DIAGNOSTICS
from reprokit.claims import Evidence
from reprokit.lifecycle import ReportTarget
from reprokit.report import (
    format_mean_std,
    keep_sections,
    marked_section,
    merge_section,
    write_results,
)

LABELS = {
    "di": "Diff-Instruct (EMD-1, ε only)",
    "emd": "EMD-K (ε, z)",
    "emd_nocancel": "EMD-K, no noise cancellation",
    "emd_xz": "EMD-K (x, z)",
    "emd_eps": "EMD-K (ε only)",
    "emd2": "EMD-2 (ε, z)",
    "emd4": "EMD-4 (ε, z)",
    "emd16": "EMD-16 (ε, z)",
}
Runs = Mapping[str, Mapping[int, Mapping[str, Any]]]  # method -> seed -> {hist, final, x}
SECTION_TAGS = ("digits", "8mode")  # marked RESULTS.md sections of the other committed profiles
FIGURE_SAMPLES = 2000  # samples per model kept for the figures (the scatter plots show these)


def labels(K: int) -> dict[str, str]:
    """Display names of the methods, with the profile's K."""
    return {m: v.replace("EMD-K", f"EMD-{K}") for m, v in LABELS.items()}


def k_slope(per: Mapping[str, list[float]], metric: str) -> list[float] | None:
    """Per-seed least-squares slope of ``<metric>/<method>`` against log2 K over ``K_SWEEP``."""
    if not all(f"{metric}/{m}" in per for m in K_SWEEP):
        return None
    log_k = np.log2(list(K_SWEEP.values()))
    values = np.array([per[f"{metric}/{m}"] for m in K_SWEEP])  # (n_K, seeds)
    return [float(np.polyfit(log_k, v, 1)[0]) for v in values.T]


def collect(
    seeds: Sequence[int],
    results: Runs,
    references: Mapping[str, Mapping[int, Mapping[str, float]]],
) -> dict[str, list[float]]:
    """Flatten a run into per-seed metrics ``"<metric>/<method>"`` (values in seed order).

    ``references`` maps a name (``teacher``, ``gaussian_fit``, ...) to its per-seed sample
    metrics. ``<m>/generator_init`` is the step-0 evaluation (θ = ψ; the same for every method,
    whose step-0 evaluations share θ and the seed's evaluation key). ``<m>/<method>`` is the last
    evaluation, ``<m>_tail/<method>`` the mean of the last ``TAIL`` evaluations (for
    ``TAIL_METRICS``); ``<diagnostic>/<method>`` the E-step diagnostics averaged over the run;
    ``k_slope/<m>_tail`` the K-sweep trend (C5).
    """
    per: dict[str, list[float]] = {}
    for name, by_seed in references.items():
        for k in by_seed[seeds[0]]:
            per[f"{k}/{name}"] = [by_seed[s][k] for s in seeds]
    for i, (method, runs) in enumerate(results.items()):
        evals = {s: runs[s]["hist"]["evals"] for s in seeds}
        if i == 0:
            for k in evals[seeds[0]][0]:
                per[f"{k}/generator_init"] = [evals[s][0][k] for s in seeds]
        for k in runs[seeds[0]]["final"]:
            per[f"{k}/{method}"] = [runs[s]["final"][k] for s in seeds]
        for k in TAIL_METRICS:
            if k in runs[seeds[0]]["final"]:
                per[f"{k}_tail/{method}"] = [
                    float(np.mean([e[k] for e in evals[s][-TAIL:] if k in e])) for s in seeds
                ]
        for k in (k for k in DIAGNOSTICS if k in runs[seeds[0]]["hist"]):
            per[f"{k}/{method}"] = [float(np.mean(runs[s]["hist"][k])) for s in seeds]
        gn = [float(np.median(runs[s]["hist"]["grad_norm"])) for s in seeds]
        per[f"grad_norm_median/{method}"] = gn
        per[f"steps_per_s/{method}"] = [runs[s]["hist"]["steps_per_s"] for s in seeds]
    for k in TAIL_METRICS:
        slope = k_slope(per, f"{k}_tail")
        if slope is not None:
            per[f"k_slope/{k}_tail"] = slope
    return per


def _per_method(doc: Mapping[str, Any], metric: str) -> str:
    """``"di 0.50 ± 0.01 (n=3), emd …"`` for every recorded ``<metric>/<method>``."""
    ms = doc["metrics"]
    return ", ".join(
        f"{m} {format_mean_std(ms[f'{metric}/{m}'])}"
        for m in LABELS
        if f"{metric}/{m}" in ms and ms[f"{metric}/{m}"].get("n")
    )


def notes(cfg: Config, doc: Mapping[str, Any]) -> str:
    """Generated notes: what the constants are, the references, per-method extras."""
    info, steps = doc.get("info", {}), cfg.distill.steps
    tail = ", ".join(str(steps - i * cfg.eval.chunk) for i in reversed(range(TAIL)))
    digits = cfg.data.dataset == "digits"
    central = "proxy-FID (`proxy_fid`)" if digits else f"mode-weight KL (`{CENTRAL}`)"
    lines = [
        f"Data: `{cfg.data.dataset}`. Quality claims compare `<metric>_tail/<method>`, the mean "
        f"of the last {TAIL} evaluations (generator steps {tail}), paired by seed; the central "
        f"metric is the {central}. The last evaluation alone is recorded as "
        "`<metric>/<method>`. Declared in `emd/claims.py`.",
        f"C2's {C2_RATIO:g}× is the research note's 10× (gradient norm) squared, since the "
        "covariance trace is quadratic in the gradient; C2 is measured at the `emd` run's states "
        f"after each chunk with θ and φ frozen, {cfg.eval.grad_batches} minibatches of "
        f"{cfg.distill.batch}, w = {cfg.distill.weighting}, the same draws with and without "
        "cancellation"
        + (" (recorded on digits, where no claim reads it)" if digits else "")
        + ". The gates' 0.8 and 1 are design criteria (README).",
        f"Teacher: {cfg.teacher.arch}, {cfg.teacher.steps} steps "
        f"({info.get('teacher_train_s', float('nan')):.0f} s), one network (seed "
        f"{cfg.teacher_seed}) shared by all seeds; `*/teacher` are its "
        f"{cfg.teacher.sample_steps}-NFE samples drawn with each seed's key, `*/teacher_nfe<n>` "
        "its n-NFE samples"
        + (
            ""
            if digits
            else ", `*/teacher_no_rare` its 200-NFE samples with the rare modes' samples "
            "replaced by others (positive control)"
        )
        + ". `*/gaussian_fit` samples one Gaussian fitted (mean, covariance) to a data draw.",
        f"E-step (γ_ε = {cfg.distill.gamma_eps:g}, γ_z = {cfg.distill.gamma_z:g}): "
        "drift-to-noise ratio of z at SNR > 1 "
        f"{_per_method(doc, 'drift_to_noise_z_snr1')}; of z over all chains "
        f"{_per_method(doc, 'drift_to_noise_z')}; of ε {_per_method(doc, 'drift_to_noise_eps')}; "
        f"ε relaxation {_per_method(doc, 'relax_eps')} (means over all steps).",
    ]
    if any(k.startswith("uncancelled_to_cancelled/") for k in doc["metrics"]):
        lines.append(
            "The (x, z) chain's uncancelled term U^K (the change of ε = (x_t − α g(z))/σ that z's "
            "moves cause, which the bookkeeping N does not follow; `estep.py`), measured at every "
            "step: rms(U^K)/rms(N^K), against the noise that cancellation removes, "
            f"{_per_method(doc, 'uncancelled_to_cancelled')}; rms(U^K)/rms(ε^K − N^K − U^K), "
            f"against the signal the M-step should see, {_per_method(doc, 'uncancelled_to_signal')}"
            " (means over all steps)."
        )
    kl = [
        f"K = {k}: {format_mean_std(doc['metrics'][f'estep_kl_K{k}_tail/emd'])}"
        for k in KL_KS
        if doc["metrics"].get(f"estep_kl_K{k}_tail/emd", {}).get("n")
    ]
    if kl:
        lines.append(
            "E-step KL to its target (C7; `estep_kl.py`): tail mean over the `emd` run's states of "
            "KL(q_K(x_t) ‖ p_t), averaged over λ ∈ {0, 2, 4, 6}, " + "; ".join(kl) + "."
        )
    for metric, what in (
        ("modes_covered", "Modes covered (last evaluation)"),
        ("rare_recall_tail", "Rare-mode recall (tail)"),
        ("kl_weights_tail", "Mode-weight KL (tail)"),
        ("mmd_tail", "MMD² (tail)"),
        ("steps_per_s", "Training speed (generator steps/s, this machine)"),
    ):
        if any(k.startswith(f"{metric}/") for k in doc["metrics"]):
            lines.append(f"{what}: {_per_method(doc, metric)}.")
    costs = [
        f"{k.split('/')[1]} {v['value']:.4f} s"
        for k, v in doc["metrics"].items()
        if k.startswith("sampling_s_per_1000/")
    ]
    if costs:
        lines.append(f"Sampling cost per 1000 samples (this machine): {', '.join(costs)}.")
    return "\n\n".join(lines)


def write(
    cfg: Config,
    target: ReportTarget,
    ev: Evidence,
    figs: Mapping[str, Path],
    wall_time_s: float,
    info: Mapping[str, Any],
    command: str,
    section: str | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """Write ``metrics.json`` and RESULTS.md where ``target`` says; returns the metrics document
    and the paths written.

    ``section`` (a profile name, ``cpu-digits`` or ``cpu-8mode``): the run writes
    ``<section tag>_metrics.json`` and replaces only its marked section of RESULTS.md. Without
    it, a committed run rewrites RESULTS.md and keeps the other profiles' marked sections."""
    tag = section.removeprefix("cpu-") if section else None
    name = f"{tag}_metrics.json" if tag else "metrics.json"
    metrics_path = ev.write(target.dir / name, wall_time_s, info=info)
    doc = ev.to_dict(wall_time_s, info=info)
    profile = doc["profile"]
    kept = [marked_section(target.results_md, t) for t in SECTION_TAGS] if target.committed else []
    report_md = target.results_md.with_name(f".{tag}_section.md") if tag else target.results_md
    write_results(
        report_md,
        doc,
        title=f"EMD — {profile} profile ({cfg.data.dataset}, K = {cfg.distill.K})",
        figures=figs,
        command=command,
        notes=notes(cfg, doc),
        metrics_path=metrics_path,
    )
    if tag:
        heading = f"{section} profile (`{command}`)"
        merge_section(target.results_md, report_md, heading, tag)
    else:
        keep_sections(target.results_md, kept)
    return doc, [target.results_md, metrics_path, *figs.values()]
