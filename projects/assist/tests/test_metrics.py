"""Metrics: PSNR, SSIM, depth L1 without the edge band, PQ / mIoU, edit regions."""

from __future__ import annotations

import math

import pytest
import torch
from assist import metrics as mt
from assist.room import render_gt, ring_cameras, room_a


def test_psnr_and_ssim() -> None:
    a = torch.rand(24, 32, 3, generator=torch.Generator().manual_seed(0))
    assert mt.psnr(a + 0.1, a) == pytest.approx(20.0, abs=1e-3)
    assert mt.ssim(a, a) == pytest.approx(1.0, abs=1e-5)
    assert mt.ssim(a, torch.rand_like(a)) < 0.5
    assert math.isnan(mt.psnr(a, a, torch.zeros(24, 32, dtype=torch.bool)))


def test_panoptic_is_one_for_a_perfect_prediction_and_drops_for_a_shift() -> None:
    v = render_gt(room_a(), ring_cameras(1, 64, 48, 70.0, None)[0])
    perfect = mt.panoptic([v.instance], [v.instance], [v.semantic], [v.semantic])
    assert perfect == {"pq": 1.0, "miou": 1.0}
    shifted = mt.panoptic(
        [v.instance.roll(2, 1)], [v.instance], [v.semantic.roll(2, 1)], [v.semantic]
    )
    assert shifted["pq"] < 0.95 and shifted["miou"] < 0.95
    wrong_class = mt.panoptic(
        [v.instance], [v.instance], [torch.zeros_like(v.semantic)], [v.semantic]
    )
    assert wrong_class["pq"] < 0.5  # segments of the wrong class are not matched


def test_depth_l1_ignores_only_the_one_pixel_edge_band() -> None:
    depth = torch.ones(10, 10)
    depth[:, 5:] = 3.0  # a depth edge between columns 4 and 5
    inst = torch.zeros(10, 10, dtype=torch.long)
    band = mt.edge_band(depth, inst)
    assert band[:, 4:6].all() and band.sum() == 20
    pred = depth.clone()
    pred[:, 4] = 3.0  # a one-pixel shift of the edge: not counted
    assert mt.depth_l1(pred, depth, inst) == 0.0
    pred[:, 0] += 0.5
    assert mt.depth_l1(pred, depth, inst) == pytest.approx(0.5 * 10 / 80)


def test_edit_region_and_instance_iou() -> None:
    cam = ring_cameras(1, 64, 48, 70.0, None)[0]
    a = room_a()
    before, after = render_gt(a, cam), render_gt(a.delete(2), cam)
    region = mt.edit_region(after, before)
    assert torch.equal(region, before.instance == 2)  # exactly the deleted cabinet's pixels
    assert mt.instance_iou([before.instance], [before.instance], 2) == 1.0
    assert math.isnan(mt.instance_iou([after.instance], [after.instance], 2))
