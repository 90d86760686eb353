"""Headless figures (matplotlib Agg, no pyplot state): each function saves a PNG, returns its path.

Images may be numpy, torch or jax arrays in ``(N, C, H, W)``, ``(N, H, W, C)`` or ``(N, H, W)``
layout with values in ``value_range`` (default ``(-1, 1)``).

    plots.sample_grid(x_gen, out / "samples.png", nrow=8, title="EDM samples")
    plots.scatter_2d({"data": x, "model": y}, out / "scatter.png")
    plots.learning_curves({"method": (steps, loss), "baseline": (steps, base)}, out / "c.png")
    plots.image_rows({"input": x, "reconstruction": x_hat}, out / "recon.png")
    plots.mask_rows(x, {"ground truth": m, "predicted": m_hat}, out / "masks.png")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["image_rows", "learning_curves", "mask_rows", "sample_grid", "scatter_2d", "to_hwc"]


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def to_hwc(images: Any, value_range: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """Images -> float array ``(N, H, W, C)`` with C in {1, 3} scaled to [0, 1]."""
    x = _np(images).astype(np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:  # (N, H, W)
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"expected images of rank 3 or 4, got shape {x.shape}")
    if x.shape[1] in (1, 3, 4) and x.shape[-1] not in (1, 3, 4):  # NCHW -> NHWC
        x = x.transpose(0, 2, 3, 1)
    lo, hi = value_range
    x = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return x[..., :3]


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=fig.dpi, bbox_inches="tight")
    return path


def _show(ax: Any, img: np.ndarray, **kw: Any) -> None:
    if img.shape[-1] == 1:
        ax.imshow(img[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest", **kw)
    else:
        ax.imshow(img, interpolation="nearest", **kw)
    ax.set_xticks([])
    ax.set_yticks([])


def sample_grid(
    images: Any,
    path: str | Path,
    nrow: int = 8,
    title: str | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    pad: int = 1,
) -> Path:
    """A grid of ``nrow`` images per row (one imshow of a tiled canvas)."""
    x = to_hwc(images, value_range)
    n, h, w, c = x.shape
    ncol = max(1, min(nrow, n))
    rows = -(-n // ncol)
    canvas = np.ones((rows * (h + pad) + pad, ncol * (w + pad) + pad, c))
    for i in range(n):
        r, q = divmod(i, ncol)
        y0, x0 = pad + r * (h + pad), pad + q * (w + pad)
        canvas[y0 : y0 + h, x0 : x0 + w] = x[i]
    scale = max(1.0, 64 / max(h, w))  # small images get larger cells
    fig = Figure(figsize=(max(2.0, ncol * w * scale / 48), max(2.0, rows * h * scale / 48)))
    ax = fig.add_subplot(1, 1, 1)
    _show(ax, canvas)
    if title:
        ax.set_title(title)
    return _save(fig, path)


def scatter_2d(
    points: Mapping[str, Any],
    path: str | Path,
    title: str | None = None,
    s: float = 4.0,
    alpha: float = 0.5,
    lim: tuple[float, float] | None = None,
) -> Path:
    """Overlayed 2-D scatter plots, one colour per entry of ``points`` (each ``(N, 2)``)."""
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot(1, 1, 1)
    for name, pts in points.items():
        p = _np(pts).reshape(-1, 2)
        ax.scatter(p[:, 0], p[:, 1], s=s, alpha=alpha, label=name, linewidths=0)
    if lim is not None:
        ax.set_xlim(*lim)
        ax.set_ylim(*lim)
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(markerscale=3)
    if title:
        ax.set_title(title)
    return _save(fig, path)


def learning_curves(
    curves: Mapping[str, tuple[Any, Any]],
    path: str | Path,
    title: str | None = None,
    xlabel: str = "step",
    ylabel: str | None = None,
    logy: bool = False,
) -> Path:
    """Lines ``name -> (steps, values)``; 2-D values ``(seeds, steps)`` give mean ± std bands."""
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot(1, 1, 1)
    for name, (steps, values) in curves.items():
        x, y = _np(steps).ravel(), _np(values).astype(np.float64)
        if y.ndim == 2:
            m, sd = y.mean(0), y.std(0)
            (line,) = ax.plot(x, m, label=f"{name} (n={y.shape[0]})")
            ax.fill_between(x, m - sd, m + sd, color=line.get_color(), alpha=0.2)
        else:
            ax.plot(x, y.ravel(), label=name)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return _save(fig, path)


def _rows_figure(rows: Sequence[tuple[str, Sequence[np.ndarray]]], title: str | None) -> Figure:
    nr, nc = len(rows), max(len(r[1]) for r in rows)
    fig = Figure(figsize=(1.3 * nc + 1.0, 1.3 * nr + (0.4 if title else 0.0)))
    axes = fig.subplots(nr, nc, squeeze=False)
    for i, (label, imgs) in enumerate(rows):
        for j in range(nc):
            if j < len(imgs):
                _show(axes[i, j], imgs[j])
            else:
                axes[i, j].axis("off")
        axes[i, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return fig


def image_rows(
    rows: Mapping[str, Any],
    path: str | Path,
    title: str | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    max_cols: int = 12,
) -> Path:
    """One labelled row per entry (e.g. input / reconstruction / samples along a trajectory)."""
    data = [(name, list(to_hwc(imgs, value_range)[:max_cols])) for name, imgs in rows.items()]
    return _save(_rows_figure(data, title), path)


def _mask_rgb(mask: Any) -> np.ndarray:
    """``(H, W)`` bool/int labels or ``(K, H, W)`` soft masks -> ``(H, W, 3)`` colours."""
    from matplotlib import colormaps

    m = _np(mask)
    if m.ndim == 3:  # (K, H, W) per-slot probabilities
        m = m.argmax(0)
    m = m.astype(np.int64)
    cmap = colormaps["tab20"]
    rgb = cmap(m % 20)[..., :3]
    rgb[m == 0] = 0.0  # background / label 0 black
    return rgb


def mask_rows(
    images: Any,
    masks: Mapping[str, Any],
    path: str | Path,
    n: int = 8,
    title: str | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> Path:
    """Rows of ``image | mask column 1 | mask column 2 ...`` for the first ``n`` samples.

    ``masks`` maps a column name ("ground truth", "predicted") to ``(N, H, W)`` label / bool
    masks or ``(N, K, H, W)`` soft masks (argmax over K).
    """
    x = to_hwc(images, value_range)[:n]
    cols = ["image", *masks]
    cells = [[x[i]] + [_mask_rgb(_np(m)[i]) for m in masks.values()] for i in range(len(x))]
    fig = Figure(figsize=(1.4 * len(cols) + 0.4, 1.4 * len(cells) + (0.5 if title else 0.2)))
    axes = fig.subplots(len(cells), len(cols), squeeze=False)
    for i, row in enumerate(cells):
        for j, img in enumerate(row):
            _show(axes[i, j], img)
            if i == 0:
                axes[0, j].set_title(cols[j], fontsize=9)
    if title:
        fig.suptitle(title)
    return _save(fig, path)
