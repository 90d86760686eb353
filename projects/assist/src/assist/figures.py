"""The edit figure: per edit, one held-out view (the one with the largest edit region)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from reprokit import plots


def _panoptic(ids: torch.Tensor) -> np.ndarray:
    from matplotlib import colormaps

    rgb = colormaps["tab10"](ids.numpy() % 10)[..., :3]
    rgb[ids.numpy() == 0] = 0.0
    return rgb


def _depth(d: torch.Tensor) -> np.ndarray:
    g = (d.clamp(0, 5) / 5).numpy()
    return np.repeat(g[..., None], 3, -1)


def figure_arrays(art: dict) -> dict[str, np.ndarray]:
    """Columns: unedited, then each edit; rows as in ``edit_figure`` (float arrays in [0, 1])."""
    rows: dict[str, list[np.ndarray]] = {
        k: [] for k in ("gt", "assist", "world", "depth_gt", "depth", "pan_gt", "pan", "region")
    }
    for name, views in art["gt"].items():
        pred = art["pred"][name]
        assist = pred["assist"] if isinstance(pred, dict) else pred
        world = pred.get("assist_world", assist) if isinstance(pred, dict) else assist
        region = art.get("region", {}).get(name)
        k = int(np.argmax([r.sum() for r in region])) if region is not None else 0
        rows["gt"].append(views[k].rgb.numpy())
        rows["assist"].append(assist[k]["rgb"].clamp(0, 1).numpy())
        rows["world"].append(world[k]["rgb"].clamp(0, 1).numpy())
        rows["depth_gt"].append(_depth(views[k].depth))
        rows["depth"].append(_depth(assist[k]["depth"]))
        rows["pan_gt"].append(_panoptic(views[k].instance))
        rows["pan"].append(_panoptic(assist[k]["instance"]))
        reg = region[k].numpy() if region is not None else np.zeros(views[k].depth.shape, bool)
        rows["region"].append(np.where(reg[..., None], views[k].rgb.numpy(), 0.2))
    return {f"fig_{k}": np.stack(v).astype(np.float32) for k, v in rows.items()}


LABELS = {
    "fig_gt": "ground truth",
    "fig_assist": "ASSIST",
    "fig_world": "wrong frame",
    "fig_depth_gt": "GT depth",
    "fig_depth": "ASSIST depth",
    "fig_pan_gt": "GT panoptic",
    "fig_pan": "ASSIST panoptic",
    "fig_region": "edit region",
}


def edit_figure(arrays: dict, path: Path) -> Path:
    """Rows: GT, ASSIST, wrong-frame control, depths, panoptic ids, edit region; columns:
    unedited, translate, rotate, duplicate, delete, swap, insert."""
    rows = {label: np.asarray(arrays[key]) * 2 - 1 for key, label in LABELS.items()}
    return plots.image_rows(rows, path)
