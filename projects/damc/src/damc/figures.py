"""The toy's per-x posterior figure: exact grid density vs samplers, a row per observation."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reprokit.atomic import atomic_path

COLUMNS = {
    "z_longrun": "long-run Langevin",
    "z_damc": "DAMC (q_φ + K steps)",
    "z_shortrun_matched": "short-run, K + T steps",
}


def _window(p: np.ndarray, ticks: np.ndarray) -> tuple[float, float, float, float]:
    """A square around the density's mass: mean ± max(6 std, 0.5) per axis."""
    p = p / p.sum()
    zz1, zz2 = np.meshgrid(ticks, ticks, indexing="ij")
    m1, m2 = (p * zz1).sum(), (p * zz2).sum()
    s = max(6 * np.sqrt(max((p * (zz1 - m1) ** 2).sum(), (p * (zz2 - m2) ** 2).sum())), 0.5)
    return m1 - s, m1 + s, m2 - s, m2 + s


def per_x_posteriors(material: Mapping[str, np.ndarray], path: Path, lim: float = 5.5) -> Path:
    """Row i: the exact p(z|x_i) on the grid, then each sampler's samples over its contours,
    zoomed on the exact posterior.

    ``material``: ``exact_density`` (n, g, g) on the grid of ``toy.grid_posterior``, ``x``
    (n, 2), and ``z_<sampler>`` (n, m, 2) for the samplers in COLUMNS.
    """
    dens, x = material["exact_density"], material["x"]
    n, g = dens.shape[0], dens.shape[1]
    ticks = np.linspace(-lim, lim, g)
    fig = Figure(figsize=(3 * (1 + len(COLUMNS)), 3 * n))
    FigureCanvasAgg(fig)
    axes = fig.subplots(n, 1 + len(COLUMNS), squeeze=False)
    for i in range(n):
        box = _window(dens[i], ticks)
        p = dens[i].T  # grid index (z1, z2) -> image rows z2
        levels = p.max() * np.array([0.05, 0.3, 0.7])
        axes[i, 0].imshow(p, origin="lower", extent=(-lim, lim, -lim, lim), cmap="viridis")
        axes[i, 0].set_title(f"exact p(z|x), x = ({x[i, 0]:.2f}, {x[i, 1]:.2f})", fontsize=9)
        for j, (key, title) in enumerate(COLUMNS.items(), start=1):
            ax = axes[i, j]
            ax.contour(ticks, ticks, p, levels=levels, colors="0.5", linewidths=0.7)
            z = material[key][i]
            ax.scatter(z[:, 0], z[:, 1], s=5, alpha=0.6, color="C3")
            ax.set_title(title, fontsize=9)
        for ax in axes[i]:
            ax.set_xlim(box[0], box[1])
            ax.set_ylim(box[2], box[3])
            ax.set_aspect("equal")
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    return path
