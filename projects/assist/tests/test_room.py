"""The analytic room: exact depth, ids, shading in the object's frame, visibility."""

from __future__ import annotations

import math

import torch
from assist.geometry import camera_rays
from assist.room import render_gt, ring_cameras, room_a, seen_mask


def test_depth_and_ids_are_exact() -> None:
    a = room_a()
    cam = ring_cameras(1, 64, 48, 70.0, None)[0]
    v = render_gt(a, cam)
    o, d = camera_rays(cam)
    hit = o + v.depth.reshape(-1, 1) * d
    assert torch.allclose(hit, v.points, atol=1e-5)
    for node in a.nodes:  # every object pixel's point lies on its box's surface or inside it
        q = node.box.to_local(v.points[v.instance.reshape(-1) == node.node_id])
        assert (q.abs() <= 1 + 1e-4).all()
    assert set(v.instance.unique().tolist()) <= {0, *a.ids()}
    assert v.rgb.min() >= 0 and v.rgb.max() <= 1


def test_turning_an_object_changes_its_pixels_but_not_their_shading_rule() -> None:
    """Per-face textures make a 90° turn visible; shading lives in the object frame, so a turn
    by 360° renders identically."""
    a = room_a()
    cam = ring_cameras(1, 64, 48, 70.0, None)[0]
    base = render_gt(a, cam)
    turned = render_gt(a.transform(1, yaw=math.pi / 2), cam)
    full = render_gt(a.transform(1, yaw=2 * math.pi), cam)
    assert (turned.rgb - base.rgb).abs().amax() > 0.1
    assert torch.allclose(full.rgb, base.rgb, atol=1e-4)


def test_seen_mask_marks_what_no_training_view_observed() -> None:
    a = room_a()
    cams = ring_cameras(12, 48, 36, 70.0, seed=0)
    train = {"A": (cams, [render_gt(a, c) for c in cams])}
    cam = ring_cameras(1, 48, 36, 70.0, None, offset=0.5)[0]
    unedited = seen_mask(a, render_gt(a, cam), train)
    assert unedited.float().mean() > 0.97
    deleted = a.delete(2)  # the floor under the cabinet was never observed
    n_footprint = 0
    for cam in ring_cameras(6, 48, 36, 70.0, None, offset=0.5):
        v = render_gt(deleted, cam)
        seen = seen_mask(deleted, v, train)
        q = a.get(2).box.to_local(v.points).reshape(*v.depth.shape, 3)
        on_floor = v.points[:, 2].reshape(v.depth.shape).abs() < 1e-4
        footprint = on_floor & (q[..., 0].abs() < 0.7) & (q[..., 1].abs() < 0.7)
        assert not seen[footprint].any()
        assert seen[~footprint].float().mean() > 0.95
        n_footprint += int(footprint.sum())
    assert n_footprint > 0
