"""Ray–box slab intersection against brute force; cameras and projection."""

from __future__ import annotations

import math

import pytest
import torch
from assist.geometry import Box, camera_rays, look_at, project, ray_box


def brute_force_interval(q0: torch.Tensor, qd: torch.Tensor, n: int = 20001, t_max: float = 6.0):
    """First and last t in [0, t_max] where q0 + t qd lies in [-1, 1]³ (dense sampling)."""
    t = torch.linspace(0, t_max, n)
    inside = ((q0[:, None] + t[None, :, None] * qd[:, None]).abs() <= 1).all(-1)
    hit = inside.any(1)
    first = torch.where(hit, t[inside.float().argmax(1)], torch.nan)
    last = torch.where(hit, t[n - 1 - inside.flip(1).float().argmax(1)], torch.nan)
    return first, last, hit


def test_ray_box_matches_brute_force() -> None:
    g = torch.Generator().manual_seed(0)
    q0 = (torch.rand(400, 3, generator=g) - 0.5) * 4
    qd = torch.randn(400, 3, generator=g)
    qd = qd / qd.norm(dim=-1, keepdim=True)
    t_near, t_far, hit = ray_box(q0, qd)
    first, last, bf_hit = brute_force_interval(q0, qd)
    step = 6.0 / 20000
    assert hit.sum() > 30 and (~hit).sum() > 30  # both cases are exercised
    assert torch.equal(hit, bf_hit) or (hit != bf_hit).sum() <= 2  # grazing rays only
    both = hit & bf_hit
    assert torch.allclose(t_near[both], first[both], atol=2 * step)
    assert torch.allclose(t_far[both], last[both], atol=2 * step)


def test_ray_box_from_inside_starts_at_zero() -> None:
    t_near, t_far, hit = ray_box(torch.zeros(1, 3), torch.tensor([[1.0, 0.0, 0.0]]))
    assert hit.item() and t_near.item() == 0.0 and t_far.item() == pytest.approx(1.0)


def test_box_frames_round_trip_and_keep_ray_depth() -> None:
    box = Box((0.3, -0.2, 0.4), 0.7, (0.5, 0.2, 0.3))
    p = torch.randn(50, 3)
    assert torch.allclose(box.to_world(box.to_local(p)), p, atol=1e-5)
    o, d = torch.zeros(1, 3), torch.tensor([[0.6, -0.3, 0.74]])
    d = d / d.norm()
    q0, qd = box.to_local(o), box.dir_to_local(d)
    t_near, _, hit = ray_box(q0, qd)
    assert hit.item()
    entry = o + t_near * d  # the canonical t is a world distance along the unit ray
    assert box.to_local(entry).abs().max().item() == pytest.approx(1.0, abs=1e-5)


def test_camera_rays_project_back_to_their_pixel() -> None:
    cam = look_at(
        torch.tensor([1.5, 0.2, 1.3]), torch.tensor([0.0, 0.0, 0.3]), 16, 12, math.radians(70)
    )
    o, d = camera_rays(cam)
    row, col, ok = project(cam, o + 2.0 * d)
    assert ok.all()
    assert torch.equal(row * 16 + col, torch.arange(16 * 12))
