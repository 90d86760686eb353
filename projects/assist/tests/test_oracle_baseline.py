"""The oracle reaches the GT through the same grids and renderer; the baseline's edit layers."""

from __future__ import annotations

from assist import metrics as mt
from assist.baseline import changed_nodes, matched_rays
from assist.configs import cpu
from assist.geometry import camera_rays
from assist.oracle import oracle_banks
from assist.render import Fields, render_graph
from assist.room import render_gt, ring_cameras, room_a
from assist.train import build_model


def test_oracle_renders_the_room_it_voxelised() -> None:
    gt = room_a()
    objects, background = oracle_banks(gt, 32, (96, 96, 64))
    graph = build_model(cpu(), gt).graph
    fields = Fields({"A/objects": objects, "A/background": background}, 48, 112)
    cam = ring_cameras(1, 64, 48, 70.0, None, offset=0.5)[0]
    truth = render_gt(gt, cam)
    out = render_graph(graph, fields, *camera_rays(cam))
    assert mt.psnr(out["rgb"].reshape(48, 64, 3), truth.rgb) > 20
    assert (out["instance"].reshape(48, 64) == truth.instance).float().mean() > 0.95
    assert mt.depth_l1(out["depth"].reshape(48, 64), truth.depth, truth.instance) < 0.05


def test_baseline_layers_follow_the_edit() -> None:
    a = room_a()
    assert changed_nodes(a, a) == (set(), [])
    removed, layers = changed_nodes(a, a.transform(3, (0.5, 0, 0)))
    assert removed == {3} and [n.node_id for n in layers] == [3]
    removed, layers = changed_nodes(a, a.delete(2))
    assert removed == {2} and layers == []
    removed, layers = changed_nodes(a, a.duplicate(4, (1, 0, 0)))
    assert removed == set() and [n.node_id for n in layers] == [6]
    removed, layers = changed_nodes(a, a.swap(3, 5))
    assert removed == {3, 5} and len(layers) == 2


def test_baseline_gets_assist_s_sample_budget() -> None:
    cfg = cpu()
    tc = cfg.train
    n = matched_rays(cfg, 5) * (tc.samples_background + tc.samples_surface)
    assist = tc.rays_background * (
        tc.samples_background + tc.samples_surface
    ) + 5 * tc.rays_object * (tc.samples_object + tc.samples_surface)
    assert abs(n - assist) < tc.samples_background + tc.samples_surface
