"""A procedural CLEVR-like scene generator (2.5-D painter's algorithm, numpy only).

A light-grey floor with a vertical gradient; 3..max_objects primitives (sphere, cube, cylinder) in
the 8 CLEVR colours, 2 sizes, rubber (matte) or metal (specular highlight); soft elliptical
shadows on the floor; objects painted back to front (sorted by the image y of their base) with
rejection sampling for a minimum distance. The foreground mask is 1 - floor (as DRC's CLEVR
loader does), with 4x supersampling and box-filter antialiasing.
"""

from __future__ import annotations

import numpy as np

from reprokit.cache import cached_npz

GENERATOR_VERSION = 1
CLEVR_COLOURS = (
    np.array(
        [
            [87, 87, 87],  # gray
            [173, 35, 35],  # red
            [42, 75, 215],  # blue
            [29, 105, 20],  # green
            [129, 74, 25],  # brown
            [129, 38, 192],  # purple
            [41, 208, 208],  # cyan
            [255, 238, 51],  # yellow
        ],
        dtype=np.float32,
    )
    / 255.0
)
KINDS = ("sphere", "cube", "cylinder")


def _convex(px: np.ndarray, py: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Inside test for a convex polygon (k, 2) given counter-clockwise in image coordinates."""
    inside = np.ones(px.shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, axis=0)):
        inside &= (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0) >= 0
    return inside


def _object(kind: str, px: np.ndarray, py: np.ndarray, cx: float, cy: float, s: float, col, metal):
    """Coverage (bool) and shaded colour (..., 3) of one primitive whose base centre is (cx, cy)."""
    spec = 0.6 if metal else 0.0
    if kind == "sphere":
        dx, dy = (px - cx) / s, (py - (cy - s)) / s
        r2 = dx**2 + dy**2
        inside = r2 <= 1
        nz = np.sqrt(np.clip(1 - r2, 0, 1))
        lam = np.clip(-0.5 * dx - 0.6 * dy + 0.6 * nz, 0, 1)  # light from the upper left
        hl = spec * np.exp(-((dx + 0.35) ** 2 + (dy + 0.4) ** 2) / 0.02)
        shade = (0.35 + 0.65 * lam)[..., None] * col + hl[..., None]
        return inside, shade
    if kind == "cube":
        d = 0.45 * s  # oblique depth offset (up and to the right)
        front = np.array([[cx - s, cy], [cx + s, cy], [cx + s, cy - 2 * s], [cx - s, cy - 2 * s]])
        top = np.array(
            [
                [cx - s, cy - 2 * s],
                [cx + s, cy - 2 * s],
                [cx + s + d, cy - 2 * s - d],
                [cx - s + d, cy - 2 * s - d],
            ]
        )
        side = np.array(
            [[cx + s, cy], [cx + s + d, cy - d], [cx + s + d, cy - 2 * s - d], [cx + s, cy - 2 * s]]
        )
        f, t, sd = (_convex(px, py, p[::-1]) | _convex(px, py, p) for p in (front, top, side))
        shade = np.where(
            t[..., None], 1.0 * col + spec * 0.3, np.where(sd[..., None], 0.55 * col, 0.8 * col)
        )
        return f | t | sd, shade
    # cylinder: body rectangle + bottom ellipse + lighter top ellipse
    a, b, h = s, 0.35 * s, 2 * s
    body = (np.abs(px - cx) <= a) & (py <= cy) & (py >= cy - h)
    bottom = ((px - cx) / a) ** 2 + ((py - cy) / b) ** 2 <= 1
    topc = ((px - cx) / a) ** 2 + ((py - (cy - h)) / b) ** 2 <= 1
    lam = 0.55 + 0.45 * np.cos(np.clip((px - cx) / a, -1, 1) * np.pi / 2 + 0.5)
    hl = spec * np.exp(-(((px - cx) / a + 0.4) ** 2) / 0.01)
    shade = np.where(topc[..., None], 1.0 * col, (lam[..., None] * col + hl[..., None] * 0.8))
    return body | bottom | topc, shade


def render_clevr(rng: np.random.Generator, size: int, max_objects: int, supersample: int = 4):
    """One scene -> image (3, size, size) float32 in [-1, 1], foreground mask (size, size) bool."""
    S = size * supersample
    py, px = (np.mgrid[0:S, 0:S].astype(np.float32) + 0.5) / S
    floor = (0.78 - 0.18 * py)[..., None] * np.ones(3, np.float32)  # light grey gradient
    n = rng.integers(3, max(3, max_objects) + 1)
    objs: list[tuple[float, float, float]] = []
    for _ in range(200):  # rejection sampling for a minimum distance
        if len(objs) == n:
            break
        s = rng.choice([0.07, 0.11])
        cx, cy = rng.uniform(0.15, 0.85), rng.uniform(0.4, 0.92)
        if all(np.hypot(cx - ox, cy - oy) > 1.1 * (s + os_) + 0.03 for ox, oy, os_ in objs):
            objs.append((cx, cy, s))
    img = floor.copy()
    for cx, cy, s in objs:  # soft shadows on the floor, down-right of each object
        d2 = ((px - cx - 0.6 * s) / (1.6 * s)) ** 2 + ((py - cy - 0.15 * s) / (0.6 * s)) ** 2
        img *= (1 - 0.35 * np.exp(-d2))[..., None]
    fg = np.zeros((S, S), dtype=bool)
    for cx, cy, s in sorted(objs, key=lambda o: o[1]):  # back to front
        kind = KINDS[rng.integers(3)]
        inside, shade = _object(
            kind, px, py, cx, cy, s, CLEVR_COLOURS[rng.integers(8)], rng.random() < 0.5
        )
        img = np.where(inside[..., None], shade, img)
        fg |= inside
    box = img.reshape(size, supersample, size, supersample, 3).mean(axis=(1, 3))
    mask = fg.reshape(size, supersample, size, supersample).mean(axis=(1, 3)) >= 0.5
    return (np.clip(box, 0, 1).transpose(2, 0, 1) * 2 - 1).astype(np.float32), mask


def make_clevr(n: int, size: int, max_objects: int, seed: int) -> dict[str, np.ndarray]:
    """`n` CLEVR-like scenes: {'x': (n, 3, s, s) float32 in [-1, 1], 'mask': (n, s, s) bool}."""
    rng = np.random.default_rng(seed)
    out = [render_clevr(rng, size, max_objects) for _ in range(n)]
    return {"x": np.stack([o[0] for o in out]), "mask": np.stack([o[1] for o in out])}


def load_clevr(n: int, size: int, max_objects: int, seed: int) -> dict[str, np.ndarray]:
    """Cached CLEVR-like scenes (reprokit.cache)."""
    params = {"n": n, "size": size, "max_objects": max_objects, "seed": seed}
    return cached_npz(
        name="drc_clevrlike",
        version=GENERATOR_VERSION,
        params=params,
        build=lambda: make_clevr(n, size, max_objects, seed),
    )
