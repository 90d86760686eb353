"""Compositing of two known slabs, node transforms, and the occluded-node test (design risk 6)."""

from __future__ import annotations

import math

import pytest
import torch
from assist.fields import GridBank
from assist.geometry import Box, camera_rays
from assist.nodes import FieldRef, SceneGraph, new_node
from assist.oracle import oracle_banks
from assist.render import Background, Fields, alphas, composite, render_graph
from assist.room import Room, Shape, render_gt, ring_cameras


def slab(t0: float, t1: float, sigma: float, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Samples at the left edges of n equal bins of [t0, t1] and their α (Σδ = t1 − t0)."""
    t = torch.linspace(t0, t1, n + 1)[:-1][None]
    return t, alphas(torch.full_like(t, sigma), t, torch.tensor([t1]))


def test_two_slabs_composite_to_the_analytic_answer() -> None:
    """Slab 1 (σ=2, [1, 1.5]) in front of slab 2 (σ=3, [2, 2.5]) in front of an opaque wall."""
    t1, a1 = slab(1.0, 1.5, 2.0, 7)
    t2, a2 = slab(2.0, 2.5, 3.0, 5)
    tw, aw = torch.tensor([[4.0]]), torch.ones(1, 1)
    c = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    # interleave the inputs: the renderer must sort them by depth
    t = torch.cat([t2, tw, t1], 1)
    alpha = torch.cat([a2, aw, a1], 1)
    owner = torch.tensor([[1] * 5 + [2] + [0] * 7])
    rgb = c[owner[0]][None]
    out = composite(t, alpha, rgb, owner, 3)
    e1, e2 = math.exp(-2.0 * 0.5), math.exp(-3.0 * 0.5)
    expected = torch.tensor([1 - e1, e1 * (1 - e2), e1 * e2])
    assert torch.allclose(out["rgb"][0], expected, atol=1e-5)
    assert torch.allclose(out["owner_weight"][0], expected, atol=1e-5)
    assert out["opacity"].item() == pytest.approx(1.0, abs=1e-5)


def _one_node_scene(box: Box, shape: Shape, res: int = 48) -> tuple[SceneGraph, SceneGraph, Fields]:
    """A GT graph with one shape and no room, and its oracle node graph (empty background)."""
    gt = SceneGraph("A", Room(), (new_node(1, "cabinet", "blue", box, shape, "A"),))
    objects, _ = oracle_banks(gt, res, (2, 2, 2))
    empty = GridBank(1, (2, 2, 2), init_density=-40.0)
    node = new_node(1, "cabinet", "blue", box, FieldRef("A/objects", 0), "A")
    graph = SceneGraph("A", Background(FieldRef("A/background", 0), Room().box), (node,))
    return gt, graph, Fields({"A/objects": objects, "A/background": empty}, 48, 4)


def test_a_node_transform_moves_its_rendered_mask_exactly() -> None:
    """Moving the node and the camera by the same vector leaves the node's render unchanged, and
    the moved node's mask matches the GT of the moved shape."""
    box, shape = Box((0.2, 0.1, 0.3), 0.4, (0.3, 0.2, 0.3)), Shape("cube", (0.3, 0.5, 0.8))
    gt, graph, fields = _one_node_scene(box, shape)
    cam = ring_cameras(1, 64, 48, 70.0, None)[0]
    o, d = camera_rays(cam)
    shift = torch.tensor([0.3, -0.2, 0.0])
    before = render_graph(graph, fields, o, d)
    moved = graph.transform(1, tuple(shift.tolist()))
    after = render_graph(moved, fields, o + shift, d)
    assert torch.allclose(before["rgb"], after["rgb"], atol=1e-4)
    assert torch.equal(before["opacity"] > 0.5, after["opacity"] > 0.5)
    gt_moved = render_gt(gt.transform(1, tuple(shift.tolist())), cam).instance.reshape(-1) == 1
    mask = render_graph(moved, fields, o, d)["opacity"] > 0.5
    iou = (mask & gt_moved).sum() / (mask | gt_moved).sum()
    assert iou > 0.9
