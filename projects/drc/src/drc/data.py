"""Data for DRC: procedural Textured Multi-dSprites ("TexSprites") and image folders with masks.

TexSprites follows the paper's Textured Multi-dSprites setting (DRC's `TexturedDataset`): 1..N
dSprites-style shapes (square, ellipse, heart), each filled with its own texture (stripes,
checker, dots), painted in order (occlusion) over a textured background (a grating or smooth value
noise). Foreground and background draw their colours from one shared palette, so colour alone does
not separate them. Rendering uses `supersample`x supersampling with box-filter antialiasing; the
ground-truth foreground mask is the union of the shape masks thresholded at 0.5.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reprokit.cache import cached_npz
from reprokit.errors import UserError

if TYPE_CHECKING:
    from drc.configs import DRCConfig

GENERATOR_VERSION = 3

# One palette shared by foreground and background textures (RGB in [0, 1]).
PALETTE = np.array(
    [
        [0.90, 0.20, 0.20],
        [0.20, 0.75, 0.25],
        [0.20, 0.35, 0.90],
        [0.95, 0.85, 0.20],
        [0.85, 0.35, 0.85],
        [0.20, 0.80, 0.85],
        [0.95, 0.95, 0.95],
        [0.15, 0.15, 0.15],
    ],
    dtype=np.float32,
)
SHAPES = ("square", "ellipse", "heart")
# Structured tiers: backgrounds and objects take their colours from disjoint palettes, objects
# are checker or dots textures (never stripes, the background family).
FG_PALETTE = PALETTE[[0, 1, 2, 3]]  # red, green, blue, yellow
BG_PALETTE = PALETTE[[4, 5, 6, 7]]  # magenta, cyan, white, black
OBJECT_KINDS = (1, 2)
TIERS = ("flat", "gradient", "stripes", "texsprites")


def shape_inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Implicit shape test in object-local coordinates (radius 1): True inside.

    square: ||(u, v)||_inf <= 0.85; ellipse: u^2 + (v/0.5)^2 <= 1 (aspect 2:1);
    heart: (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0 with (x, y) = 1.2 (u, -v + 0.1).
    """
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.85
    if shape == "ellipse":
        return u**2 + (v / 0.5) ** 2 <= 1.0
    if shape == "heart":
        x, y = 1.2 * u, 1.2 * (-v + 0.1)
        return (x**2 + y**2 - 1.0) ** 3 - x**2 * y**3 <= 0.0
    raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")


def _texture(
    rng: np.random.Generator,
    u: np.ndarray,
    v: np.ndarray,
    cols: np.ndarray,
    kinds: tuple[int, ...] = (0, 1, 2),
) -> np.ndarray:
    """Foreground texture (0 stripes | 1 checker | 2 dots, one of `kinds`) -> (..., 3) colours."""
    kind = kinds[rng.integers(len(kinds))]
    f = rng.uniform(1.2, 2.2)  # cycles per object radius
    phi = rng.uniform(0, np.pi)
    a = u * np.cos(phi) + v * np.sin(phi)
    b = -u * np.sin(phi) + v * np.cos(phi)
    ph = rng.uniform(0, 2 * np.pi, size=2)
    if kind == 0:  # stripes
        t = np.sin(2 * np.pi * f * a + ph[0]) > 0
    elif kind == 1:  # checker
        t = np.sin(2 * np.pi * f * a + ph[0]) * np.sin(2 * np.pi * f * b + ph[1]) > 0
    else:  # dots on a lattice
        da = np.mod(f * a + ph[0] / (2 * np.pi), 1.0) - 0.5
        db = np.mod(f * b + ph[1] / (2 * np.pi), 1.0) - 0.5
        t = da**2 + db**2 < 0.09
    return np.where(t[..., None], cols[0], cols[1])


def _texsprites_background(rng: np.random.Generator, S: int, cols: np.ndarray) -> np.ndarray:
    """TexSprites background on an S x S grid -> (S, S, 3): a random grating or value noise."""
    y, x = np.mgrid[0:S, 0:S].astype(np.float32) / S
    if rng.random() < 0.5:  # grating with random phase, orientation and frequency
        th = rng.uniform(0, np.pi)
        f = rng.uniform(2.0, 5.0)  # cycles per canvas
        w = 0.5 + 0.5 * np.sin(
            2 * np.pi * f * (x * np.cos(th) + y * np.sin(th)) + rng.uniform(0, 2 * np.pi)
        )
    else:  # value noise: bilinear upsampling of a random 5x5 lattice
        g = rng.random((5, 5)).astype(np.float32)
        gx, gy = x * 4, y * 4
        i0, j0 = np.floor(gy).astype(int), np.floor(gx).astype(int)
        i1, j1 = np.minimum(i0 + 1, 4), np.minimum(j0 + 1, 4)
        ty, tx = gy - i0, gx - j0
        w = (g[i0, j0] * (1 - ty) + g[i1, j0] * ty) * (1 - tx) + (
            g[i0, j1] * (1 - ty) + g[i1, j1] * ty
        ) * tx
    return w[..., None] * cols[0] + (1 - w[..., None]) * cols[1]


def background_params(rng: np.random.Generator, tier: str) -> np.ndarray:
    """Parameters of one structured background: [kind, theta, freq, phase, c0 (3), c1 (3)].

    The family is low-dimensional up to a smooth deformation: `flat` (c0), `gradient` (a linear
    ramp c1 -> c0 along theta, any direction) and `stripes` (a sinusoidal grating of 1.5-2.5
    cycles per canvas, near-horizontal: theta within 0.25 rad of pi/2, any phase; a translation
    of the canvas only shifts the phase). Colours are two of BG_PALETTE with a small per-image
    jitter.
    """
    kind = TIERS.index(tier)
    cols = BG_PALETTE[rng.permutation(len(BG_PALETTE))[:2]]
    cols = np.clip(cols + rng.normal(0, 0.02, size=(2, 3)), 0, 1)
    if tier == "stripes":  # near-horizontal bands: the warp can absorb the small tilt
        theta, freq = rng.uniform(np.pi / 2 - 0.25, np.pi / 2 + 0.25), rng.uniform(1.5, 2.5)
    else:
        theta, freq = rng.uniform(0, np.pi), 0.0
    phase = rng.uniform(0, 2 * np.pi)
    return np.array([kind, theta, freq, phase, *cols[0], *cols[1]], dtype=np.float64)


def paint_background(params: np.ndarray, S: int) -> np.ndarray:
    """The structured background of `params` (see `background_params`) on S x S -> (S, S, 3)."""
    kind, theta, freq, phase = params[:4]
    c0, c1 = params[4:7], params[7:10]
    y, x = (np.mgrid[0:S, 0:S] + 0.5) / S - 0.5  # pixel centres, canvas centred at 0
    t = x * np.cos(theta) + y * np.sin(theta)
    if TIERS[int(kind)] == "flat":
        w = np.ones_like(t)
    elif TIERS[int(kind)] == "gradient":
        w = np.clip(0.5 + t, 0, 1)
    else:  # stripes
        w = 0.5 + 0.5 * np.sin(2 * np.pi * freq * t + phase)
    return w[..., None] * c0 + (1 - w[..., None]) * c1


def _paint_objects(
    rng: np.random.Generator,
    img: np.ndarray,
    n_obj: int,
    pick_colours,
    kinds: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Paint n_obj random shapes in order (occlusion) -> (image, owner index per subpixel)."""
    S = img.shape[0]
    yy, xx = (np.mgrid[0:S, 0:S].astype(np.float32) + 0.5) / S
    owner = np.full((S, S), -1, dtype=np.int64)  # index of the visible object per subpixel
    for k in range(n_obj):
        r = 0.28 * rng.uniform(0.5, 1.0)  # radius: 0.5..1 x base size (0.28 of the canvas)
        cx, cy = rng.uniform(0.1, 0.9, size=2)  # centre: partly outside the canvas is allowed
        th = rng.uniform(0, 2 * np.pi)
        dx, dy = xx - cx, yy - cy
        u = (np.cos(th) * dx + np.sin(th) * dy) / r  # R(-theta)(p - c) / r
        v = (-np.sin(th) * dx + np.cos(th) * dy) / r
        inside = shape_inside(SHAPES[rng.integers(3)], u, v)
        img = np.where(inside[..., None], _texture(rng, u, v, pick_colours(), kinds), img)
        owner[inside] = k
    return img, owner


def render_sprites(
    rng: np.random.Generator,
    size: int,
    max_objects: int,
    tier: str = "texsprites",
    supersample: int = 4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Render one image of a data tier (module docstring).

    Returns image (3, size, size) float32 in [-1, 1], foreground mask (size, size) bool, instance
    masks (max_objects, size, size) bool (unused slots all False; later objects occlude earlier
    ones) and the background parameters (10,) (NaN for `texsprites`, which has no closed form).
    """
    S = size * supersample
    if tier == "texsprites":
        cols = PALETTE[rng.permutation(len(PALETTE))[:4]]  # 4 colours of the shared palette
        img = _texsprites_background(rng, S, cols[rng.permutation(4)[:2]])  # (S, S, 3)
        n_obj = int(rng.integers(1, max_objects + 1))
        img, owner = _paint_objects(
            rng, img, n_obj, lambda: cols[rng.permutation(4)[:2]], (0, 1, 2)
        )
        img = img + rng.normal(0, 0.02, size=3).astype(np.float32)  # per-image colour jitter
        params = np.full(10, np.nan)
    elif tier in TIERS:
        params = background_params(rng, tier)
        img = paint_background(params, S).astype(np.float32)
        n_obj = int(rng.integers(1, max_objects + 1))
        pick = lambda: FG_PALETTE[rng.permutation(len(FG_PALETTE))[:2]]  # noqa: E731
        img, owner = _paint_objects(rng, img, n_obj, pick, OBJECT_KINDS)
    else:
        raise ValueError(f"unknown data tier {tier!r}; expected one of {TIERS}")
    # Box-filter antialiasing: average supersample x supersample blocks.
    box = img.reshape(size, supersample, size, supersample, 3).mean(axis=(1, 3))
    inst = np.zeros((max_objects, size, size), dtype=bool)
    for k in range(max_objects):
        cover = (owner == k).reshape(size, supersample, size, supersample).mean(axis=(1, 3))
        inst[k] = cover >= 0.5
    fg = (owner >= 0).reshape(size, supersample, size, supersample).mean(axis=(1, 3)) >= 0.5
    x = np.clip(box, 0, 1).transpose(2, 0, 1) * 2 - 1
    return x.astype(np.float32), fg, inst, params


def make_sprites(
    n: int, size: int, max_objects: int, seed: int, tier: str = "texsprites"
) -> dict[str, np.ndarray]:
    """`n` images: {'x': (n,3,s,s) float32 [-1,1], 'mask': (n,s,s) bool, 'inst', 'bg_params'}."""
    rng = np.random.default_rng(seed)
    out = [render_sprites(rng, size, max_objects, tier) for _ in range(n)]
    return {
        "x": np.stack([o[0] for o in out]),
        "mask": np.stack([o[1] for o in out]),
        "inst": np.stack([o[2] for o in out]),
        "bg_params": np.stack([o[3] for o in out]),
    }


def load_sprites(
    n: int, size: int, max_objects: int, seed: int, tier: str = "texsprites"
) -> dict[str, np.ndarray]:
    """Cached images of a tier (reprokit.cache: keyed by generator version + parameters)."""
    params = {"n": n, "size": size, "max_objects": max_objects, "seed": seed, "tier": tier}
    return cached_npz(
        name="drc_sprites",
        version=GENERATOR_VERSION,
        params=params,
        build=lambda: make_sprites(n, size, max_objects, seed, tier),
    )


def load_folder(image_dir: str | Path, mask_dir: str | Path, size: int) -> dict[str, np.ndarray]:
    """Real data (Birds, Dogs, Cars, CLEVR6 exported as images + masks) read from folders.

    Raises DatasetError (ValueError) with a one-line message on a missing folder, mismatched
    image/mask counts or a wrong image size.
    """
    from reprokit.datasets import DatasetError, load_image_folder

    x, m = load_image_folder(image_dir, mask_dir=mask_dir, size=None)  # no silent resizing
    if m is None:
        raise DatasetError(f"{mask_dir}: no masks found; DRC evaluation needs a mask per image")
    if len(x) != len(m):
        raise DatasetError(f"{image_dir}: {len(x)} images but {len(m)} masks in {mask_dir}")
    if x.shape[-1] != size or x.shape[-2] != size:
        raise DatasetError(
            f"{image_dir}: images are {x.shape[-2]}x{x.shape[-1]}, expected {size}x{size} "
            "(resize them or set --data.image_size)"
        )
    return {"x": x.astype(np.float32), "mask": m.astype(bool)}


def load_data(cfg: DRCConfig) -> dict[str, np.ndarray]:
    """x_train, m_train, x_test, m_test (images (N,3,H,W) in [-1,1], masks (N,H,W) bool)."""
    from drc.clevr import load_clevr
    from drc.cub import load_cub

    d = cfg.data
    if d.source == "sprites":
        tr = load_sprites(d.n_train, d.image_size, d.max_objects, d.data_seed, d.tier)
        te = load_sprites(d.n_test, d.image_size, d.max_objects, d.data_seed + 1, d.tier)
        return {"x_train": tr["x"], "m_train": tr["mask"], "x_test": te["x"], "m_test": te["mask"]}
    if d.source == "clevr":
        tr = load_clevr(d.n_train, d.image_size, d.max_objects, d.data_seed)
        te = load_clevr(d.n_test, d.image_size, d.max_objects, d.data_seed + 1)
        return {"x_train": tr["x"], "m_train": tr["mask"], "x_test": te["x"], "m_test": te["mask"]}
    if d.source in ("cub_all", "cub_split"):
        if d.image_dir is None:
            raise UserError(f"data.source={d.source} needs --data.image_dir (the CUB root folder)")
        return load_cub(d.image_dir, d.image_size, d.source)
    if d.image_dir is None or d.mask_dir is None:
        raise UserError("data.source=folder needs --data.image_dir and --data.mask_dir")
    a = load_folder(d.image_dir, d.mask_dir, d.image_size)
    n_test = min(d.n_test, len(a["x"]) - 1)
    if n_test < 1:
        raise UserError(
            f"{d.image_dir}: need at least 2 images (train + held-out), got {len(a['x'])}"
        )
    return {
        "x_train": a["x"][:-n_test],
        "m_train": a["mask"][:-n_test],
        "x_test": a["x"][-n_test:],
        "m_test": a["mask"][-n_test:],
    }
