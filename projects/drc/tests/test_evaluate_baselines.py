"""IoU / Dice and the label-free baselines."""

from __future__ import annotations

import numpy as np
from drc import baselines
from drc.evaluate import iou_dice


def test_iou_dice_values() -> None:
    p = np.zeros((3, 4, 4), bool)
    g = np.zeros((3, 4, 4), bool)
    p[0, :2], g[0, :1] = True, True  # |P|=8, |G|=4, inter 4 -> IoU .5, Dice 2/3
    p[1], g[1] = True, True
    iou, dice = iou_dice(p, g)  # image 2: both empty -> 1
    np.testing.assert_allclose(iou, [0.5, 1.0, 1.0])
    np.testing.assert_allclose(dice, [2 / 3, 1.0, 1.0])


def _square_image():
    x = np.full((1, 3, 24, 24), -0.6, np.float32)
    x[0, 0, 8:16, 8:16], x[0, 1, 8:16, 8:16] = 0.9, 0.5
    m = np.zeros((1, 24, 24), bool)
    m[0, 8:16, 8:16] = True
    return x, m


def test_kmeans_border_rule_picks_the_object() -> None:
    x, m = _square_image()
    iou, _ = iou_dice(baselines.kmeans(x), m)
    assert iou[0] == 1.0
    inv = x.copy()
    inv[0, 0] = -inv[0, 0]  # swap which cluster is bright: the rule does not use brightness
    assert iou_dice(baselines.kmeans(inv), m)[0][0] == 1.0


def test_grabcut_and_allfg() -> None:
    x, m = _square_image()
    gc = baselines.grabcut(x)
    assert gc.shape == (1, 24, 24) and gc.dtype == bool
    assert iou_dice(gc, m)[0][0] > 0.8
    np.testing.assert_allclose(iou_dice(baselines.all_foreground(x), m)[0], m.mean())


def test_displacement_is_in_pixels() -> None:
    import torch
    from drc.evaluate import displacement
    from drc.model import identity_grid

    shape = torch.Size((2, 3, 8, 16))
    g = identity_grid(2, 8, 16)
    assert displacement(g, shape).abs().max() < 1e-6
    shifted = g + torch.tensor([2 / 16, 2 / 8])  # one pixel right and one down (16 x 8 canvas)
    torch.testing.assert_close(displacement(shifted, shape), torch.ones(2, 8, 16, 2))
    assert displacement(None, shape).shape == (2, 8, 16, 2)
    assert displacement(None, shape).sum() == 0


def test_fit_diagnostics_separate_object_and_background_pixels() -> None:
    from drc.evaluate import fit_diagnostics, mean_colour_l1

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 3, 8, 8))
    m = np.zeros((4, 8, 8), bool)
    m[:, 2:5, 2:5] = True
    x_f = np.where(m[:, None], x, x + 0.5)  # right on objects, 0.5 off on the background
    disp = np.full((4, 8, 8), 2.0)
    disp[m] = 5.0  # the warp moves object pixels more
    rend = {"x_hat": x, "x_f": x_f, "x_bw": x - 0.25, "disp_px": disp}
    d = fit_diagnostics(rend, x, m)
    assert d["recon"] == 0 and d["fg_object"] == 0
    assert np.isclose(d["fg_background"], 0.5) and np.isclose(d["bg_object"], 0.25)
    assert np.isclose(d["disp_px"], 2.0 + 3.0 * m.mean()) and d["disp_object_px"] == 5.0
    assert d["disp_p90_px"] == 5.0
    assert mean_colour_l1(np.ones((2, 3, 4, 4))) == 0 and mean_colour_l1(x) > 0.4
