"""OpenCV renderer for generated panels (160 px canvas, optional area-downsampling to 32 px).

Shapes follow RAVEN's look: regular polygons (triangle, square, pentagon, hexagon) or a circle,
radius = size scale (0.4..0.9) x half the slot, grey fill 255 - 255 * color / 9 (level 0 is a
white fill, so only the outline shows), 2-px black outline, rotation by angle index x 45 deg.
"""

from __future__ import annotations

import cv2
import numpy as np

SIZES = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
N_SIDES = (3, 4, 5, 6, 0)  # 0 = circle
CANVAS = 160


def _slot_boxes(config: str) -> list[tuple[float, float, float]]:
    """(centre x, centre y, half-width) of each slot, on the 160-px canvas."""
    if config == "center":
        return [(80.0, 80.0, 80.0)]
    k = 3 if config == "grid3x3" else 2  # distribute_nine / distribute_four
    hw = CANVAS / (2 * k)
    return [(hw * (1 + 2 * (s % k)), hw * (1 + 2 * (s // k)), hw) for s in range(k * k)]


def render_panel(panel: np.ndarray, angles: np.ndarray, config: str, px: int = 160) -> np.ndarray:
    """One panel ``(mask, type, size, color)`` -> uint8 image (px, px), white background."""
    s = 4  # draw at 4x sub-pixel precision for smooth edges
    img = np.full((CANVAS, CANVAS), 255, np.uint8)
    mask, t, z, c = (int(v) for v in panel)
    grey = round(255 - 255 * c / 9)
    for slot, (cx, cy, hw) in enumerate(_slot_boxes(config)):
        if not (mask >> slot) & 1:
            continue
        r = SIZES[z] * hw * 0.95
        centre = (round(cx * s), round(cy * s))
        if N_SIDES[t] == 0:
            cv2.circle(img, centre, round(r * s), grey, -1, cv2.LINE_AA, shift=2)
            cv2.circle(img, centre, round(r * s), 0, 2, cv2.LINE_AA, shift=2)
            continue
        k = N_SIDES[t]
        theta = np.deg2rad(45.0 * int(angles[slot])) + np.pi / 2 + np.arange(k) * 2 * np.pi / k
        pts = np.stack([cx + r * np.cos(theta), cy - r * np.sin(theta)], 1)
        pts = np.round(pts * s).astype(np.int32)[None]
        cv2.fillPoly(img, pts, grey, cv2.LINE_AA, shift=2)
        cv2.polylines(img, pts, True, 0, 2, cv2.LINE_AA, shift=2)
    if px != CANVAS:
        img = cv2.resize(img, (px, px), interpolation=cv2.INTER_AREA)
    return img


def render_problems(panels: np.ndarray, angles: np.ndarray, config: str, px: int) -> np.ndarray:
    """(N, 16, 4) panels + (N, 16, >= S) angles -> uint8 images (N, 16, px, px)."""
    N = panels.shape[0]
    out = np.empty((N, 16, px, px), np.uint8)
    for n in range(N):
        for k in range(16):
            out[n, k] = render_panel(panels[n, k], angles[n, k], config, px)
    return out
