"""Procedural referents (stand-in for Sketchy photos and their synthesized sketches).

A *category* is (base shape, modifier). A *referent instance* has a random position, size,
rotation and aspect; it gives the receiver a "photo" (the filled shape in a random colour on a
textured background, 3×R×R) and the sender a "sketch": ``n_strokes`` quadratic Bézier strokes in
the sender's own parameterisation (``render``): the first ``modifiers_after`` outline strokes (from
the shape's first vertex, so that the order is learnable by teacher forcing), then the modifier
strokes, then the rest of the outline. The most discriminative strokes are not drawn first, but
they arrive early enough for a receiver that guesses after a few steps to have seen them.

Whole base shapes are held out: their categories never appear in training games. The frozen
encoder is pretrained on a disjoint pool of base shapes (``POOL_SHAPES``).
Category similarity = attribute overlap (shape-family kernel × modifier match), the known
ground truth that replaces the paper's word vectors in the semanticity probe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.path import Path as PolyPath

GAME_SHAPES = ("circle", "ellipse", "square", "diamond", "triangle", "star", "cross", "arrow")
POOL_SHAPES = ("hexagon", "moon", "heart", "lshape", "pentagon", "semicircle", "trapezoid")
MODIFIERS = ("plain", "dot", "hatched")
FAMILY = {
    "circle": "curved",
    "ellipse": "curved",
    "square": "polygon",
    "diamond": "polygon",
    "triangle": "polygon",
    "star": "spiky",
    "cross": "spiky",
    "arrow": "spiky",
}
N_MODIFIER_STROKES = 10


def _regular(n: int, r: float = 1.0, phase: float = 0.0) -> np.ndarray:
    a = phase + 2 * np.pi * np.arange(n) / n
    return r * np.stack([np.cos(a), np.sin(a)], 1)


def outline(shape: str) -> np.ndarray:
    """Closed polygon (N, 2) of a base shape, roughly within the unit disc."""
    if shape == "circle":
        return _regular(64)
    if shape == "ellipse":
        return _regular(64) * np.array([1.0, 0.55])
    if shape == "square":
        return _regular(4, 1.1, np.pi / 4)
    if shape == "diamond":
        return _regular(4) * np.array([0.7, 1.0])
    if shape == "triangle":
        return _regular(3, 1.05, -np.pi / 2) + np.array([0.0, 0.2])
    if shape == "star":
        return np.concatenate(
            [_regular(5, 1.0, -np.pi / 2), _regular(5, 0.42, -np.pi / 2 + np.pi / 5)], 1
        ).reshape(-1, 2)
    if shape == "cross":
        a, b = 0.32, 1.0
        q = [(a, a), (b, a), (b, -a), (a, -a), (a, -b), (-a, -b)]
        q += [(-a, -a), (-b, -a), (-b, a), (-a, a), (-a, b), (a, b)]
        return np.array(q[::-1], float)
    if shape == "arrow":
        return np.array(
            [(-1, 0.25), (0.2, 0.25), (0.2, 0.6), (1, 0), (0.2, -0.6), (0.2, -0.25), (-1, -0.25)],
            float,
        )
    if shape == "hexagon":
        return _regular(6)
    if shape == "pentagon":
        return _regular(5, 1.0, -np.pi / 2)
    if shape == "semicircle":
        a = np.linspace(0, np.pi, 32)
        return np.stack([np.cos(a), 0.4 - np.sin(a)], 1)
    if shape == "trapezoid":
        return np.array([(-1, 0.6), (1, 0.6), (0.5, -0.6), (-0.5, -0.6)], float)
    if shape == "moon":
        a = np.linspace(-0.8 * np.pi, 0.8 * np.pi, 32)
        outer = np.stack([np.cos(a), np.sin(a)], 1)
        inner = np.stack([0.45 + 0.75 * np.cos(a[::-1]), 0.75 * np.sin(a[::-1])], 1)
        return np.concatenate([outer, inner])
    if shape == "heart":
        t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        return np.stack([x, y], 1) / 16
    if shape == "lshape":
        return np.array(
            [(-0.8, -1), (-0.2, -1), (-0.2, 0.4), (0.8, 0.4), (0.8, 1), (-0.8, 1)], float
        )
    raise ValueError(f"unknown shape {shape!r}")


def resample_closed(poly: np.ndarray, n: int, start: float) -> np.ndarray:
    """n + 1 points evenly spaced by arc length along a closed polygon, from fraction ``start``."""
    closed = np.concatenate([poly, poly[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    cum = np.concatenate([[0], np.cumsum(seg)])
    s = (start + np.linspace(0, 1, n + 1)) % 1.0 * cum[-1]
    x = np.interp(s, cum, closed[:, 0])
    y = np.interp(s, cum, closed[:, 1])
    return np.stack([x, y], 1)


def chord_strokes(points: np.ndarray) -> np.ndarray:
    """Polyline (n + 1, 2) in canvas units → n strokes (n, 6), control point at the chord middle
    (relative control 0.5 in L2P's parameterisation)."""
    p0, p2 = points[:-1], points[1:]
    return np.concatenate([p0, np.full_like(p0, 0.5), p2], 1)


def modifier_strokes(modifier: str, poly: np.ndarray) -> np.ndarray:
    """N_MODIFIER_STROKES strokes in shape units: retrace (plain), inner dot, hatching."""
    n = N_MODIFIER_STROKES
    if modifier == "plain":  # a second pass over part of the outline: carries no new attribute
        return chord_strokes(resample_closed(poly, 2 * n, 0.0)[: n + 1])
    if modifier == "dot":
        return chord_strokes(resample_closed(_regular(16, 0.28), n, 0.0))
    if modifier == "hatched":
        ys = np.linspace(-0.4, 0.4, n // 2)
        left = np.stack([np.full_like(ys, -0.4), ys], 1)
        right = np.stack([np.full_like(ys, 0.4), ys + 0.15], 1)
        mid = (left + right) / 2
        halves = [np.stack([left, mid, right], 1)[i] for i in range(n // 2)]
        return np.concatenate([chord_strokes(h) for h in halves])
    raise ValueError(f"unknown modifier {modifier!r}")


@dataclass
class Pose:
    """Instance transform: shape units → canvas units."""

    centre: np.ndarray
    scale: float
    angle: float
    aspect: float

    def apply(self, p: np.ndarray) -> np.ndarray:
        c, s = np.cos(self.angle), np.sin(self.angle)
        q = p * np.array([self.aspect, 1 / self.aspect])
        q = q @ np.array([[c, s], [-s, c]])
        return self.centre + self.scale * q


def random_pose(rng: np.random.Generator) -> Pose:
    return Pose(
        centre=0.5 + rng.uniform(-0.03, 0.03, 2),
        scale=rng.uniform(0.31, 0.35),
        angle=rng.uniform(-0.12, 0.12),
        aspect=rng.uniform(0.92, 1.08),
    )


def sketch_strokes(
    shape: str, modifier: str, pose: Pose, n_strokes: int, rng, modifiers_after: int
) -> np.ndarray:
    """The sender's target sketch (n_strokes, 6): the first ``modifiers_after`` outline strokes,
    the modifier strokes, the rest of the outline (``n_strokes − N_MODIFIER_STROKES``: the whole
    outline first)."""
    poly = outline(shape)
    n_out = n_strokes - N_MODIFIER_STROKES
    pts = [resample_closed(poly, n_out, 0.0)]
    mod = modifier_strokes(modifier, poly)
    ink = chord_strokes(pose.apply(pts[0]) + rng.normal(0, 0.004, pts[0].shape))
    mods = mod.copy()
    mods[:, 0:2] = pose.apply(mod[:, 0:2])
    mods[:, 4:6] = pose.apply(mod[:, 4:6])
    k = modifiers_after
    if not 0 <= k <= n_out:
        raise ValueError(f"modifiers_after must lie in [0, {n_out}], got {k}")
    order = np.concatenate([ink[:k], mods, ink[k:]])
    return np.clip(order, 0.0, 1.0).astype(np.float32)


def photo(shape: str, modifier: str, pose: Pose, size: int, rng) -> np.ndarray:
    """Filled shape in a random bright colour on a dark textured background: (3, size, size)."""
    ss = 2 * size
    g = (np.arange(ss) + 0.5) / ss
    xy = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    inside = PolyPath(pose.apply(outline(shape))).contains_points(xy).reshape(ss, ss)
    local = (xy - pose.centre) / pose.scale
    if modifier == "dot":
        mark = (np.linalg.norm(local, axis=1) < 0.28).reshape(ss, ss)
    elif modifier == "hatched":
        mark = ((np.sin(local[:, 1] * 14.0) > 0.4) & (np.abs(local[:, 0]) < 0.45)).reshape(ss, ss)
    else:
        mark = np.zeros((ss, ss), bool)
    colour = rng.uniform(0.55, 1.0, 3)
    bg = 0.25 * rng.uniform() + 0.12 * rng.normal(size=(3, ss, ss)).clip(-1.5, 1.5)
    img = np.where(inside, colour[:, None, None], bg)
    img = np.where(inside & mark, 0.15 * colour[:, None, None], img)
    img = img.reshape(3, size, 2, size, 2).mean((2, 4))
    return np.clip(img, 0, 1).astype(np.float32)


def categories(shapes: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(s, m) for s in shapes for m in MODIFIERS]


@dataclass
class Referents:
    """Instances of a list of categories: photos (C, I, 3, R, R), strokes (C, I, n_strokes, 6)."""

    cats: list[tuple[str, str]]
    photos: np.ndarray
    strokes: np.ndarray


def make_referents(
    shapes, n_instances: int, size: int, n_strokes: int, seed: int, modifiers_after: int
) -> Referents:
    """Every category of ``shapes`` with ``n_instances`` instances (sketch pose = photo pose)."""
    rng = np.random.default_rng(seed)
    cats = categories(tuple(shapes))
    photos = np.zeros((len(cats), n_instances, 3, size, size), np.float32)
    strokes = np.zeros((len(cats), n_instances, n_strokes, 6), np.float32)
    for c, (shape, mod) in enumerate(cats):
        for i in range(n_instances):
            pose = random_pose(rng)
            photos[c, i] = photo(shape, mod, pose, size, rng)
            strokes[c, i] = sketch_strokes(shape, mod, pose, n_strokes, rng, modifiers_after)
    return Referents(cats, photos, strokes)


def split_shapes(heldout: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(seen base shapes, unseen base shapes) of the game."""
    return tuple(s for s in GAME_SHAPES if s not in heldout), tuple(heldout)


def attribute_similarity(cats: list[tuple[str, str]]) -> np.ndarray:
    """Ground-truth category similarity: ½·shape kernel (1 same, ½ same family) + ½·[same
    modifier]."""
    n = len(cats)
    sim = np.zeros((n, n))
    for i, (si, mi) in enumerate(cats):
        for j, (sj, mj) in enumerate(cats):
            shape = 1.0 if si == sj else 0.5 if FAMILY[si] == FAMILY[sj] else 0.0
            sim[i, j] = 0.5 * shape + 0.5 * (mi == mj)
    return sim


@dataclass
class Games:
    """A batch of games: target category/instance for the sender, candidate (cat, instance) per
    receiver slot, and the target's slot."""

    sketch_cat: np.ndarray  # (B,)
    sketch_inst: np.ndarray  # (B,)
    cand_cat: np.ndarray  # (B, 3)
    cand_inst: np.ndarray  # (B, 3)
    target: np.ndarray  # (B,)


def sample_games(
    cats: list[tuple[str, str]],
    cat_ids: np.ndarray,
    inst_ids: np.ndarray,
    n: int,
    p_same_shape: float,
    rng: np.random.Generator,
) -> Games:
    """Games over categories ``cat_ids`` and instances ``inst_ids``: 3 distinct categories, one of
    them the target; with probability ``p_same_shape`` one distractor shares the target's base
    shape (another modifier). The receiver's target photo is an independently drawn instance."""
    shape_of = np.array([cats[c][0] for c in cat_ids])
    cand = np.zeros((n, 3), int)
    for b in range(n):
        t = rng.integers(len(cat_ids))
        same = np.flatnonzero((shape_of == shape_of[t]) & (np.arange(len(cat_ids)) != t))
        rest = [i for i in range(len(cat_ids)) if i != t]
        first = (
            rng.choice(same) if (len(same) and rng.uniform() < p_same_shape) else rng.choice(rest)
        )
        others = [i for i in rest if i != first]
        cand[b] = [t, first, rng.choice(others)]
    perm = np.argsort(rng.uniform(size=(n, 3)), axis=1)
    cand_slots = np.take_along_axis(cand, perm, 1)
    target = np.argmax(perm == 0, axis=1)
    return Games(
        sketch_cat=cat_ids[cand[:, 0]],
        sketch_inst=rng.choice(inst_ids, n),
        cand_cat=cat_ids[cand_slots],
        cand_inst=rng.choice(inst_ids, (n, 3)),
        target=target,
    )
