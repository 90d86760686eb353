"""The notes under RESULTS.md's tables: generated from the metrics document, never typed in."""

from __future__ import annotations

from assist.configs import Config
from assist.edits import SUITE

MODELS = ("assist", "baseline", "nomask")
RUNS = (
    "assist",
    "assist_noop",
    "assist_world",
    "assist_inverse",
    "baseline",
    "nomask",
    "oracle",
    "oracle_noop",
)


def _fmt(doc: dict, name: str) -> str:
    m = doc["metrics"].get(name)
    if m is None:
        return "—"
    if "value" in m:
        return "—" if m["value"] is None else f"{m['value']:.3g}"
    if m.get("mean") is None:
        return "—"
    return f"{m['mean']:.2f} ± {m['std']:.2f}"


def edit_table(doc: dict) -> str:
    """Edit-region PSNR (dB) per edit and run, mean ± std over seeds."""
    runs = [r for r in RUNS if any(f"edit_psnr_{n}/{r}" in doc["metrics"] for n, _ in SUITE)]
    head = "| edit | command | " + " | ".join(runs) + " |"
    sep = "|" + " --- |" * (len(runs) + 2)
    lines = [head, sep]
    for name, command in SUITE:
        cells = [_fmt(doc, f"edit_psnr_{name}/{r}") for r in runs]
        lines.append(f"| {name} | {command} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def heldout_table(doc: dict) -> str:
    """Unedited held-out scores per model."""
    keys = ("psnr", "ssim", "depth_l1", "pq", "miou")
    lines = ["| model | " + " | ".join(keys) + " |", "|" + " --- |" * (len(keys) + 1)]
    for m in ("assist", "nomask", "baseline", "oracle", "mean_colour", "threshold"):
        cells = [_fmt(doc, f"heldout_{k}/{m}") for k in keys]
        if any(c != "—" for c in cells):
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ablation_line(doc: dict) -> str:
    """The no-mask ablation next to ASSIST on room A's five edits (C7 reads the gap), with the
    wrong-frame control of the same ASSIST nodes as the positive control of the gap: an edit
    that is not rendered where it should be opens the gap."""
    m = doc["metrics"]

    def mean(name: str) -> float | None:
        return m.get(name, {}).get("mean")

    if mean("edit_gap_intra/assist") is None:  # no edits scored (a Replica run)
        return ""
    rows = [
        ("held-out PSNR (dB)", "heldout_psnr"),
        ("held-out depth L1 (m)", "heldout_depth_l1"),
        ("edit-region PSNR (dB)", "edit_psnr_intra"),
        ("edited whole-image PSNR, disoccluded pixels out (dB)", "edit_image_psnr_intra"),
        ("unedited-to-edited gap (dB, C7)", "edit_gap_intra"),
    ]
    lines = [
        "| quantity (edits: room A's five) | assist | nomask | assist_world (positive control) |",
        "| --- | --- | --- | --- |",
    ]
    for text, key in rows:
        cells = [_fmt(doc, f"{key}/{r}") for r in ("assist", "nomask", "assist_world")]
        world = mean("edit_image_psnr_intra/assist_world")
        if key == "edit_gap_intra" and world is not None:
            gap = mean("heldout_psnr/assist") - world
            cells[2] = f"{gap:.2f} (mean held-out PSNR of assist − mean edited PSNR)"
        lines.append(f"| {text} | " + " | ".join(cells) + " |")
    return (
        "No-mask ablation (the opacity/mask loss off, everything else equal), mean ± std over "
        "seeds; `assist_world` reads the moved fields in the frame they were trained in (the "
        "wrong-frame control of C2), so its gap shows what the gap metric does with edits that "
        "drag the wrong content:\n\n" + "\n".join(lines)
    )


def results_notes(doc: dict, cfg: Config) -> str:
    speed = [k for k in doc["metrics"] if k.startswith("batched_speedup_")]
    speed_line = (
        f"Batched vs Python-loop node training on CPU (no verdict: a GPU effect, design risk 8): "
        f"loop / batched step time {_fmt(doc, speed[0])} at {max(cfg.speed_nodes)} nodes."
        if speed
        else ""
    )
    parts = [
        "Held-out ring, unedited (mean ± std over seeds; depth L1 in m without the 1-px edge "
        "band; `threshold` = the gates' thresholds set from the oracle):",
        heldout_table(doc),
        "Edit-region PSNR (dB) per edit: pixels where the edited and unedited GT differ, "
        "disoccluded pixels removed. `_noop` = the same trained nodes left unedited, "
        "`_world` = fields read in the frame they were trained in, `_inverse` = the opposite "
        "motion, `oracle` = the GT voxelised into the same grids and renderer:",
        edit_table(doc),
        ablation_line(doc),
        speed_line,
        f"Trained models: {', '.join(cfg.methods)}; not run in this profile: "
        f"{', '.join(m for m in MODELS if m not in cfg.methods) or 'none'}"
        " (claims that need them read untestable). "
        f"Field type: {cfg.model.kind}; {cfg.train.steps} steps; images "
        f"{cfg.data.width}×{cfg.data.height}; {cfg.data.train_views} training and "
        f"{cfg.data.test_views} held-out views. CPU-profile numbers on a procedural room, not "
        "the paper's Replica setting.",
    ]
    return "\n\n".join(p for p in parts if p)
