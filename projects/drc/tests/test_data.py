"""Data tiers: shapes, ranges, masks = union of objects, background-family parameters, caching."""

from __future__ import annotations

import drc.data as data
import numpy as np
import pytest
from drc.data import (
    load_folder,
    load_sprites,
    make_sprites,
    paint_background,
    render_sprites,
    shape_inside,
)
from PIL import Image


def test_shapes_contain_their_centre_and_not_far_points() -> None:
    for s in data.SHAPES:
        assert shape_inside(s, np.array(0.0), np.array(0.0))
        assert not shape_inside(s, np.array(3.0), np.array(3.0))
    with pytest.raises(ValueError, match="unknown shape"):
        shape_inside("star", np.array(0.0), np.array(0.0))


def test_generated_batch_ranges_and_shapes() -> None:
    d = make_sprites(16, 32, 3, seed=0)
    assert d["x"].shape == (16, 3, 32, 32) and d["x"].dtype == np.float32
    assert d["x"].min() >= -1 and d["x"].max() <= 1
    assert d["mask"].shape == (16, 32, 32) and d["mask"].dtype == bool
    assert 0.03 < d["mask"].mean() < 0.6
    # Every image has at least one object; instance masks lie inside the foreground mask.
    assert d["mask"].reshape(16, -1).any(1).all()
    assert (d["inst"].any(1) <= d["mask"]).all()
    np.testing.assert_array_equal(make_sprites(4, 32, 3, seed=0)["x"], d["x"][:4])


def test_masks_match_the_painted_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Constant background outside the palette: mask pixels differ from it, far pixels do not."""
    bg = np.array([0.5, 0.0, 0.5], dtype=np.float32)  # green 0: every palette colour has G >= 0.15
    monkeypatch.setattr(
        data, "_texsprites_background", lambda rng, S, cols: np.broadcast_to(bg, (S, S, 3))
    )
    rng = np.random.default_rng(3)
    for _ in range(10):
        x, fg, _, _ = render_sprites(rng, 32, 3)
        img = (x + 1) / 2  # (3, H, W) in [0, 1]
        near = fg.copy()  # the mask dilated by one pixel (antialiased borders)
        near[1:] |= fg[:-1]
        near[:-1] |= fg[1:]
        near[:, 1:] |= near[:, :-1].copy()
        near[:, :-1] |= near[:, 1:].copy()
        far = img[:, ~near]  # (3, n) pure background pixels
        ref = np.median(far, axis=1, keepdims=True)
        assert np.abs(far - ref).max() < 1e-5
        assert (img[1][fg] - ref[1] > 0.05).all()  # at least half covered by palette colours


def _dilate(m: np.ndarray) -> np.ndarray:
    """Boolean (H, W) mask grown by one pixel in each direction (antialiased borders)."""
    near = m.copy()
    near[1:] |= m[:-1]
    near[:-1] |= m[1:]
    near[:, 1:] |= near[:, :-1].copy()
    near[:, :-1] |= near[:, 1:].copy()
    return near


@pytest.mark.parametrize("tier", ["flat", "gradient", "stripes"])
def test_mask_is_the_union_of_the_objects(tier: str) -> None:
    """Without supersampling the foreground mask is exactly the union of the instance masks."""
    rng = np.random.default_rng(0)
    for _ in range(8):
        _, fg, inst, _ = render_sprites(rng, 24, 3, tier, supersample=1)
        np.testing.assert_array_equal(fg, inst.any(0))
        assert fg.any()
    d = make_sprites(8, 24, 3, seed=1, tier=tier)  # antialiased: union inside, same up to edges
    union = d["inst"].any(1)
    assert (union <= d["mask"]).all() and (d["mask"] & ~union).mean() < 0.01


@pytest.mark.parametrize("tier", ["flat", "gradient", "stripes"])
def test_background_parameters_recover_the_background(tier: str) -> None:
    """Every pixel away from the objects is the family's background of the stored parameters."""
    size, ss = 24, 4
    d = make_sprites(12, size, 1, seed=2, tier=tier)
    for x, m, p in zip(d["x"], d["mask"], d["bg_params"]):
        bg = paint_background(p, size * ss).reshape(size, ss, size, ss, 3).mean(axis=(1, 3))
        far = ~_dilate(_dilate(m))
        np.testing.assert_allclose((x[:, far] + 1) / 2, bg[far].T, atol=1e-5)
        assert data.TIERS[int(p[0])] == tier
        # Disjoint palettes: the background colours are jittered BG_PALETTE colours.
        cols = p[4:10].reshape(2, 3)
        assert np.abs(cols[:, None] - data.BG_PALETTE[None]).max(-1).min(-1).max() < 0.1
    # The family is low-dimensional and varies: different images, different backgrounds.
    assert np.unique(d["bg_params"][:, 1]).size == len(d["bg_params"])
    if tier == "stripes":  # a translation only shifts the phase: same params, shifted canvas
        p = d["bg_params"][0].copy()
        a = paint_background(p, 32)
        t = np.array([np.cos(p[1]), np.sin(p[1])])
        p[3] += 2 * np.pi * p[2] * (t @ [1 / 32, 0])  # one pixel to the right
        np.testing.assert_allclose(paint_background(p, 32)[:, :-1], a[:, 1:], atol=1e-9)


def test_texsprites_has_no_closed_form_background() -> None:
    d = make_sprites(4, 16, 3, seed=0)
    assert np.isnan(d["bg_params"]).all()
    with pytest.raises(ValueError, match="unknown data tier"):
        render_sprites(np.random.default_rng(0), 16, 1, "clouds")


def test_cache_roundtrip() -> None:
    a = load_sprites(6, 16, 2, seed=5)
    b = load_sprites(6, 16, 2, seed=5)
    np.testing.assert_array_equal(a["x"], b["x"])
    np.testing.assert_array_equal(a["x"], make_sprites(6, 16, 2, seed=5)["x"])
    c = load_sprites(6, 16, 2, seed=5, tier="stripes")  # the tier is part of the cache key
    np.testing.assert_array_equal(c["x"], make_sprites(6, 16, 2, seed=5, tier="stripes")["x"])
    assert not np.array_equal(a["x"], c["x"])


def _write(folder, n, size, prefix=""):
    folder.mkdir()
    for i in range(n):
        Image.fromarray(np.full((size, size, 3), 40 * i, np.uint8)).save(folder / f"{i:03d}.png")


def test_folder_errors(tmp_path) -> None:
    from reprokit.datasets import DatasetError

    _write(tmp_path / "img", 3, 32)
    (tmp_path / "mask").mkdir()
    for i in range(2):
        Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "mask" / f"{i:03d}.png")
    with pytest.raises(DatasetError, match="mask"):
        load_folder(tmp_path / "img", tmp_path / "mask", 32)
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "mask" / "002.png")
    out = load_folder(tmp_path / "img", tmp_path / "mask", 32)
    assert out["x"].shape == (3, 3, 32, 32) and out["mask"].shape == (3, 32, 32)
    with pytest.raises(DatasetError, match="expected 64x64"):
        load_folder(tmp_path / "img", tmp_path / "mask", 64)


def test_clevr_like_scenes() -> None:
    from drc.clevr import load_clevr, make_clevr

    d = make_clevr(8, 32, 6, seed=0)
    assert d["x"].shape == (8, 3, 32, 32) and d["mask"].shape == (8, 32, 32)
    assert d["x"].min() >= -1 and d["x"].max() <= 1
    assert 0.03 < d["mask"].mean() < 0.5
    # Floor and shadows are grey (R = G = B); every non-grey pixel lies on or next to the mask.
    x = (d["x"] + 1) / 2
    grey = (np.abs(x[:, 0] - x[:, 1]) < 1e-4) & (np.abs(x[:, 1] - x[:, 2]) < 1e-4)
    near = d["mask"].copy()
    near[:, 1:] |= d["mask"][:, :-1]
    near[:, :-1] |= d["mask"][:, 1:]
    near[:, :, 1:] |= near[:, :, :-1].copy()
    near[:, :, :-1] |= near[:, :, 1:].copy()
    assert grey[~near].all()
    np.testing.assert_array_equal(load_clevr(8, 32, 6, seed=0)["x"], d["x"])
