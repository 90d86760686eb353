"""Figures of the report: sketches over training, learning curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sketchgame.probes import running_mean

from reprokit import plots


def sketch_snapshots(first_seed: dict, path: Path) -> Path:
    """Rows = training snapshots (start → end), columns = seen categories (full 7-step canvas)."""
    snaps = np.asarray(first_seed["snapshots"])  # (n_snap, C, 1, H, W) in [0, 1]
    rows = {f"snapshot {i + 1}/{len(snaps)}": 2 * s - 1 for i, s in enumerate(snaps)}
    return plots.image_rows(rows, path)


def learning_curves(results: dict, cfg, path: Path) -> Path:
    """Running-mean training accuracy and game length per setting, mean ± std over seeds."""
    w = cfg.eval.window
    curves = {}
    for setting in cfg.settings:
        for what in ("acc", "steps"):
            ys = np.stack([running_mean(r[f"{setting}_{what}_curve"], w) for r in results.values()])
            curves[f"{setting} {what}"] = (np.arange(ys.shape[1]), ys)
    return plots.learning_curves(curves, path, xlabel="game batch")
