"""Figures and the notes of RESULTS.md (the gates/claims tables come from ``reprokit.report``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from reprokit.report import format_mean_std

from .render import render_panel


def accuracy_bars(
    metrics: dict, splits: tuple[str, ...], path: Path, data: str = "Center, I-RAVEN answer sets"
) -> Path:
    """Tier A test (solid) and IID (hatched) accuracy per split and model (``Evidence.metrics``);
    ``data`` names the configuration and answer sets in the title."""
    models = _tier_a_models(metrics)
    fig, ax = plt.subplots(figsize=(9, 3.4))
    w = 0.8 / (2 * len(models))
    for j, mod in enumerate(models):
        xs = np.arange(len(splits)) + (j - (len(models) - 1) / 2) * 2 * w
        te = [metrics[f"tierA/{s}/{mod}/test_acc"] for s in splits]
        iid = [100 * metrics[f"tierA/{s}/{mod}/iid_acc"]["mean"] for s in splits]
        ax.bar(
            xs - w / 2,
            [100 * m["mean"] for m in te],
            w,
            yerr=[100 * m["std"] for m in te],
            label=f"{mod} test",
            color=f"C{j}",
        )
        ax.bar(xs + w / 2, iid, w, label=f"{mod} IID", color=f"C{j}", alpha=0.4, hatch="//")
    ax.axhline(12.5, color="k", lw=0.8, ls=":")
    ax.set_xticks(np.arange(len(splits)), splits)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"Tier A (ground-truth attributes), {data}")
    ax.legend(fontsize=6, ncol=len(models))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def value_norm_plot(norms: dict[str, list[float]], path: Path) -> Path:
    """||M^k Z||_F after training (the shrinkage hazard of the note)."""
    fig, ax = plt.subplots(figsize=(4, 3))
    for name, v in norms.items():
        ax.semilogy(range(len(v)), v, marker="o", label=name)
    ax.set_xlabel("value k")
    ax.set_ylabel("||M^k Z||_F")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def answer_generation_figure(
    data: dict[str, np.ndarray], pred: np.ndarray, config: str, path: Path, n: int = 4
) -> Path:
    """Per row: 8 context panels | rendered predicted answer | true answer."""
    fig, axes = plt.subplots(n, 10, figsize=(10, 1.1 * n))
    for r in range(n):
        panels = data["panels"][r]
        true = panels[8 + data["target"][r]]
        gen = np.array([true[0], *pred[r]])
        imgs = [render_panel(panels[k], data["angles"][r, k], config, 64) for k in range(8)]
        imgs += [
            render_panel(gen, data["angles"][r, 8], config, 64),
            render_panel(true, data["angles"][r, 8], config, 64),
        ]
        for c, im in enumerate(imgs):
            ax = axes[r, c]
            ax.imshow(im, cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title({8: "generated", 9: "true"}.get(c, f"ctx {c + 1}"), fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def problem_figure(data: dict[str, np.ndarray], config: str, path: Path) -> Path:
    """One generated I-RAVEN problem: 3x3 matrix (answer slot blank) and the 8 candidates."""
    fig, axes = plt.subplots(2, 8, figsize=(9, 2.5))
    panels, ang, y = data["panels"][0], data["angles"][0], int(data["target"][0])
    for k in range(16):
        ax = axes[k // 8, k % 8]
        ax.imshow(render_panel(panels[k], ang[k], config, 64), cmap="gray", vmin=0, vmax=255)
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(
            f"ctx {k + 1}" if k < 8 else ("answer" if k - 8 == y else f"cand {k - 7}"), fontsize=7
        )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _ms(metrics: dict, name: str) -> str:
    return format_mean_std(metrics[name], 3) if name in metrics else "—"


def _tier_a_models(metrics: dict, tier: str = "tierA") -> list[str]:
    """ALANS, ALANS-Ind and every baseline with recorded accuracies under ``tier`` (Tier A or a
    Grid configuration run beside it), in order."""
    names = [
        k.split("/")[2] for k in metrics if k.startswith(f"{tier}/") and k.endswith("/test_acc")
    ]
    seen = [n for n in dict.fromkeys(names) if n != "alans_untrained"]
    return sorted(seen, key=lambda n: (n != "alans", n != "alans_ind"))


def _tier_a_table(metrics: dict, splits: list[str], tier: str = "tierA") -> list[str]:
    lines = ["| split | model | test | IID | val |", "|---|---|---|---|---|"]
    for s in splits:
        for mod in _tier_a_models(metrics, tier):
            cells = [_ms(metrics, f"{tier}/{s}/{mod}/{p}_acc") for p in ("test", "iid", "val")]
            lines.append(f"| {s} | {mod} | " + " | ".join(cells) + " |")
        untrained = _ms(metrics, f"{tier}/{s}/alans_untrained/test_acc")
        lines.append(f"| {s} | alans, untrained (random Z, M) | {untrained} | — | — |")
    return lines


def notes(doc: dict) -> str:
    """Diagnostics and a reading of the verdicts, every number read from the metrics document."""
    m = doc["metrics"]
    splits = [
        s
        for s in ("systematicity", "productivity", "localism")
        if f"tierA/{s}/alans/test_acc" in m and m[f"tierA/{s}/alans/test_acc"]["n"]
    ]
    failed = [g["id"] for g in doc["gates"] if not g["passed"]]
    lines = [
        "Accuracies as fractions (chance 0.125). Test = the held-out split distribution; IID = a "
        "fresh test set from the training distribution of the same split; val = the validation "
        "split (training distribution).",
        *(["", *_tier_a_table(m, splits)] if splits else []),
        "",
        "Reading (interprets, does not overrule, the verdicts above): "
        + (
            f"gates {', '.join(failed)} did not pass, so the claims behind them are untestable: "
            "a baseline or ablation that never learned the task in distribution cannot show "
            "that ALANS generalises better than it (GUIDE §3, issue 17). "
            if failed
            else "every gate passed. "
        )
        + "M^k Z makes every rule exactly representable for any invertible Z, M, so the "
        "untrained backend (random Z, M) is already far above chance"
        + ("; claims C8–C10 measure what training adds." if splits else "."),
    ]
    if splits:
        lines += [
            "",
            "Strongest connectionist baseline per split (highest mean test accuracy among the "
            "baselines whose IID gate passed): "
            + "; ".join(f"{s}: {b}" for s, b in doc["info"].get("strongest", {}).items())
            + ".",
        ]
    grid = doc["info"].get("grid", {})
    if grid.get("config"):
        g, best = grid["config"], grid["strongest"]
        steps = doc["info"]["config"]["grid"]["baseline_steps"]
        lines += [
            "",
            f"Tier A on the Grid configuration `{g}` (its own generated problems; the models "
            f"and learning rates of Tier A, the relation nets and Transformer {steps} steps):",
            "",
            *_tier_a_table(m, list(best), g),
            "",
            "Strongest connectionist baseline per Grid split: "
            + "; ".join(f"{s}: {b}" for s, b in best.items())
            + ".",
        ]
    if "answer_generation/alans/attr_acc" in m:
        lines += [
            "",
            "Answer generation (decoded 9th panel of Tier A ALANS, mean over the splits, per "
            f"seed): attribute accuracy {_ms(m, 'answer_generation/alans/attr_acc')}, all three "
            f"attributes right {_ms(m, 'answer_generation/alans/all_acc')}; copying the 8th "
            f"panel: {_ms(m, 'answer_generation/copy_panel8/attr_acc')}.",
        ]
    sp = "alans_supervised_perception"
    tb = [k.split("/")[1] for k in m if k.startswith("tierB/") and k.endswith(f"/{sp}/test_acc")]
    for s in (x for x in tb if m[f"tierB/{x}/{sp}/test_acc"]["n"]):
        k = f"tierB/{s}"
        perc = {
            st: ", ".join(
                f"{a} {_ms(m, f'{k}/perception_{st}/{a}_acc')}" for a in ("type", "size", "color")
            )
            for st in ("after_warmup", "final")
        }
        lines += [
            "",
            f"Tier B ({s}; seeds {m[f'{k}/{sp}/test_acc'].get('seeds', doc['seeds'])}): LeNet "
            f"attribute accuracy on test panels after the attribute-supervised warm-up of "
            f"supervised-perception ALANS (a labelled variant: the paper never uses attribute "
            f"labels): {perc['after_warmup']}; after end-to-end training with the paper's loss: "
            f"{perc['final']}. Supervised-perception ALANS after the warm-up only: "
            f"{_ms(m, f'{k}/{sp}_warmup_only/test_acc')}. ALANS as the paper trains it (answer "
            f"CE + operator CE from random initialisation, no attribute labels, the same "
            f"end-to-end steps): {_ms(m, f'{k}/alans/test_acc')}; CNN-MLP test "
            f"{_ms(m, f'{k}/cnn/test_acc')}, IID {_ms(m, f'{k}/cnn/iid_acc')}.",
        ]
    return "\n".join(lines)
