"""Tests for reprokit.datasets: digits split/upsampling, npz arrays, image folders with masks."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from reprokit.datasets import DatasetError, load_digits, load_image_folder, load_npz_images


@pytest.mark.parametrize("size", [8, 16, 32])
def test_digits_shapes_and_range(size):
    x, y = load_digits(size=size, split="train")
    xt, yt = load_digits(size=size, split="test")
    assert x.shape == (1438, 1, size, size) and xt.shape == (359, 1, size, size)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    assert set(np.unique(y)) == set(range(10)) == set(np.unique(yt))


def test_digits_split_fixed_and_disjoint():
    from sklearn.datasets import load_digits as sk

    x, y = load_digits(8, "train")
    x2, y2 = load_digits(8, "train")
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x2[0] = 0.0  # returned arrays are copies
    assert not np.array_equal(load_digits(8, "train")[0], x2)
    xt, _ = load_digits(8, "test")
    full = sk().images.astype(np.float32) / 8 - 1
    # train + test is a partition of the 1797 images (as a multiset of rows)
    ours = sorted(r.tobytes() for r in np.concatenate([x, xt])[:, 0])
    assert ours == sorted(r.tobytes() for r in full)
    assert len(x) + len(xt) == 1797
    xa, ya = load_digits(8, "all")
    assert len(xa) == 1797 and np.array_equal(ya[:1438], y)


def test_upsampled_digits_pool_back():
    x8, _ = load_digits(8, "test")
    for s in (16, 32):
        xs, _ = load_digits(s, "test")
        f = s // 8
        pooled = xs.reshape(len(xs), 1, 8, f, 8, f).mean(axis=(3, 5))
        err_own = np.abs(pooled - x8).mean()
        err_other = np.abs(pooled - np.roll(x8, 1, axis=0)).mean()
        assert err_own < 0.25 and err_own < 0.5 * err_other
        # corners are copied exactly by the order-1 zoom (align-corners grid)
        np.testing.assert_allclose(xs[:, 0, 0, 0], x8[:, 0, 0, 0], atol=1e-6)


def test_digits_bad_args():
    with pytest.raises(ValueError, match="size"):
        load_digits(size=12)
    with pytest.raises(ValueError, match="split"):
        load_digits(split="val")


def test_npz_images(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, size=(5, 6, 7, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", images=a, labels=np.arange(5))
    x = load_npz_images(tmp_path / "a.npz")
    assert x.shape == (5, 3, 6, 7) and x.dtype == np.float32
    np.testing.assert_allclose(x[1, 2, 3, 4], a[1, 3, 4, 2] / 127.5 - 1, rtol=1e-6)
    np.savez(tmp_path / "b.npz", foo=rng.normal(size=(4, 8, 8)), bar=np.zeros(3))
    with pytest.raises(DatasetError, match="key="):
        load_npz_images(tmp_path / "b.npz")
    assert load_npz_images(tmp_path / "b.npz", key="foo").shape == (4, 1, 8, 8)
    with pytest.raises(DatasetError, match="no array 'baz'"):
        load_npz_images(tmp_path / "b.npz", key="baz")
    with pytest.raises(DatasetError, match="rank"):
        load_npz_images(tmp_path / "b.npz", key="bar")
    with pytest.raises(DatasetError, match=r"missing\.npz"):
        load_npz_images(tmp_path / "missing.npz")
    (tmp_path / "c.npz").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match=r"c\.npz"):
        load_npz_images(tmp_path / "c.npz")


def _write_folder(root, names, size=(7, 5), mask_names=None):
    img_dir, mask_dir = root / "img", root / "mask"
    img_dir.mkdir()
    mask_dir.mkdir()
    rng = np.random.default_rng(0)
    for i, n in enumerate(names):
        arr = np.full((size[1], size[0], 3), 20 * i, dtype=np.uint8)
        Image.fromarray(arr).save(img_dir / n)
    for n in mask_names if mask_names is not None else names:
        m = (rng.random((size[1], size[0])) > 0.5).astype(np.uint8) * 255
        Image.fromarray(m).save(mask_dir / (n.rsplit(".", 1)[0] + ".png"))
    (img_dir / "notes.txt").write_text("not an image")
    return img_dir, mask_dir


def test_image_folder_with_masks(tmp_path):
    img_dir, mask_dir = _write_folder(tmp_path, ["b.png", "a.png", "c.png"])
    x, m = load_image_folder(img_dir, mask_dir=mask_dir)
    assert x.shape == (3, 3, 5, 7) and x.dtype == np.float32
    assert m is not None and m.shape == (3, 5, 7) and m.dtype == bool
    # sorted order a, b, c: values 20*1, 20*0, 20*2
    np.testing.assert_allclose(x[:, 0, 0, 0], np.array([20, 0, 40]) / 127.5 - 1, rtol=1e-6)
    expected_a = np.asarray(Image.open(mask_dir / "a.png")) > 127
    np.testing.assert_array_equal(m[0], expected_a)
    x2, none = load_image_folder(img_dir, size=4)
    assert x2.shape == (3, 3, 4, 4) and none is None
    _, m2 = load_image_folder(img_dir, mask_dir=mask_dir, size=(3, 6))
    assert m2.shape == (3, 3, 6)


def test_image_folder_errors(tmp_path):
    img_dir, mask_dir = _write_folder(tmp_path, ["a.png", "b.png"], mask_names=["a.png"])
    with pytest.raises(DatasetError, match="1 mask files but 2 images"):
        load_image_folder(img_dir, mask_dir=mask_dir)
    Image.fromarray(np.zeros((5, 7), np.uint8)).save(mask_dir / "zzz.png")
    with pytest.raises(DatasetError, match="no mask with stem 'b'"):
        load_image_folder(img_dir, mask_dir=mask_dir)
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(img_dir / "c.png")
    with pytest.raises(DatasetError, match=r"c\.png: image size 9x9 differs"):
        load_image_folder(img_dir)
    (img_dir / "d.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match=r"d\.png: cannot read"):
        load_image_folder(img_dir, size=4)
    with pytest.raises(DatasetError, match="not found"):
        load_image_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no image files"):
        load_image_folder(tmp_path / "empty")
    assert issubclass(DatasetError, ValueError)
