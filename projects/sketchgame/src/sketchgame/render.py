"""Strokes and canvas: quadratic Bézier strokes in the Learning-to-Paint parameterisation, drawn by
a differentiable separable Gaussian splat, composited as white ink on a black canvas.

A stroke is 6 numbers in [0, 1] (the official code's first 6 of 9; width, opacity and colour are
fixed): ``(x0, y0, x1, y1, x2, y2)`` with the control point made relative,
``x1 ← x0 + (x2 − x0)·x1`` (same for y). Coordinates are fractions of the canvas side.

The renderer samples ``K`` points on each curve and splats a Gaussian of width σ at each point.
The Gaussian is separable, so one stroke's image is ``Σ_k g_y,k ⊗ g_x,k`` = one batched matrix
product of (H×K) and (K×W). (The note's distance-to-curve rasteriser is ~30× slower on CPU; see
the README's Deviations.) Ink ``s = 1 − exp(−gain·Σ_k g)``; compositing as in the code,
``canvas ← canvas·(1 − s) + s`` per stroke, i.e. ``1 − (1 − canvas)·Π_i (1 − s_i)``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def control_points(strokes: Tensor) -> Tensor:
    """(..., 6) stroke parameters → (..., 3, 2) absolute points P0, P1, P2 (L2P's relative P1)."""
    p0, rel, p2 = strokes[..., 0:2], strokes[..., 2:4], strokes[..., 4:6]
    p1 = p0 + (p2 - p0) * rel
    return torch.stack([p0, p1, p2], dim=-2)


def bezier_points(strokes: Tensor, k: int) -> Tensor:
    """K points on each quadratic Bézier, B(t) = (1−t)²P0 + 2t(1−t)P1 + t²P2: (..., K, 2)."""
    P = control_points(strokes)
    t = torch.linspace(0.0, 1.0, k, dtype=strokes.dtype, device=strokes.device)[:, None]
    return (
        (1 - t) ** 2 * P[..., None, 0, :]
        + 2 * t * (1 - t) * P[..., None, 1, :]
        + t**2 * P[..., None, 2, :]
    )


def stroke_ink(strokes: Tensor, size: int, sigma: float, k: int, gain: float) -> Tensor:
    """Ink of each stroke on its own, in [0, 1): strokes (B, S, 6) → (B, S, size, size)."""
    B, S, _ = strokes.shape
    pts = bezier_points(strokes, k).reshape(B * S, k, 2) * size - 0.5  # pixel centres at 0..size-1
    grid = torch.arange(size, dtype=strokes.dtype, device=strokes.device)
    gx = torch.exp(-((grid - pts[..., 0:1]) ** 2) / (2 * sigma**2))  # (B·S, K, W)
    gy = torch.exp(-((grid - pts[..., 1:2]) ** 2) / (2 * sigma**2))  # (B·S, K, H)
    density = torch.bmm(gy.transpose(1, 2), gx)  # (B·S, H, W) = Σ_k g_y,k ⊗ g_x,k
    return (1 - torch.exp(-gain * density)).reshape(B, S, size, size)


def draw(canvas: Tensor, strokes: Tensor, sigma: float, k: int, gain: float) -> Tensor:
    """Composite strokes (B, S, 6) onto canvas (B, 1, H, W): canvas·(1 − s) + s per stroke."""
    ink = stroke_ink(strokes, canvas.shape[-1], sigma, k, gain)
    return 1 - (1 - canvas) * torch.prod(1 - ink, dim=1, keepdim=True)


def chamfer_px(strokes_a: Tensor, strokes_b: Tensor, size: int, k: int = 8) -> Tensor:
    """Symmetric mean chamfer distance in pixels between two stroke sets (B, S, 6) → (B,)."""
    a = bezier_points(strokes_a, k).flatten(1, 2) * size
    b = bezier_points(strokes_b, k).flatten(1, 2) * size
    d = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")
    return 0.5 * (d.min(dim=2).values.mean(dim=1) + d.min(dim=1).values.mean(dim=1))
