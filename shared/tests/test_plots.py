"""reprokit.plots: every helper writes a readable PNG of the expected size."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest

from reprokit import plots


def _read(path):
    assert path.exists() and path.suffix == ".png"
    return mpimg.imread(path)


@pytest.mark.parametrize("shape", [(10, 1, 8, 8), (10, 3, 8, 8), (10, 8, 8, 3), (10, 8, 8)])
def test_sample_grid_layouts(tmp_path, shape):
    x = np.random.default_rng(0).uniform(-1, 1, shape)
    img = _read(plots.sample_grid(x, tmp_path / "g.png", nrow=5, title="t"))
    assert img.shape[0] > 50 and img.shape[1] > 50


def test_to_hwc_scales_and_transposes():
    x = np.stack([-np.ones((1, 2, 2)), np.ones((1, 2, 2))])  # (2, 1, 2, 2)
    y = plots.to_hwc(x)
    assert y.shape == (2, 2, 2, 1) and y[0].max() == 0.0 and y[1].min() == 1.0
    with pytest.raises(ValueError):
        plots.to_hwc(np.zeros((1, 1, 1, 1, 1)))


def test_scatter_and_curves(tmp_path):
    rng = np.random.default_rng(0)
    p = plots.scatter_2d(
        {"data": rng.normal(size=(100, 2)), "model": rng.normal(size=(50, 2))},
        tmp_path / "s.png",
        title="s",
    )
    _read(p)
    steps = np.arange(20)
    c = plots.learning_curves(
        {"method": (steps, rng.random(20)), "seeds": (steps, rng.random((3, 20)))},
        tmp_path / "c.png",
        ylabel="loss",
        logy=True,
    )
    _read(c)


def test_image_and_mask_rows(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 3, 16, 16))
    _read(plots.image_rows({"input": x, "recon": x[:2]}, tmp_path / "r.png", title="rows"))
    gt = rng.integers(0, 4, (4, 16, 16))
    soft = rng.random((4, 5, 16, 16))
    img = _read(
        plots.mask_rows(x, {"ground truth": gt, "predicted": soft}, tmp_path / "m.png", n=3)
    )
    assert img.shape[1] > img.shape[0] * 0.5  # 3 columns: image | gt | predicted
