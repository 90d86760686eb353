"""Per-node training: an occluded node is not carved by its occluder's pixels (design risk 6),
the losses, and the paper profile's MLP nodes (two steps on CPU)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
import torch
from assist.configs import PROFILES, DataConfig, FieldConfig, TrainConfig, smoke
from assist.fields import GridBank, MLPBank
from assist.geometry import Box, camera_rays
from assist.nodes import SceneGraph, new_node
from assist.render import Fields, render_graph
from assist.room import Room, Shape, render_gt, ring_cameras
from assist.train import Hooks, make_rays, train_scene


class NoCheckpoint:
    """Stand-in for ``Checkpointer`` in unit tests (no files)."""

    state = None

    def resume(self, *args) -> int:
        return 0

    def due(self, step: int) -> bool:
        return False

    def save(self, *args) -> None:
        pass


HOOKS = Hooks(log=lambda step, **kw: None, progress=lambda it, desc: it, boundary=lambda w, f: None)


def two_boxes() -> SceneGraph:
    """A tall front box that hides a smaller one in about half of the ring's views."""
    front = Box((0.55, 0.0, 0.45), 0.0, (0.12, 0.45, 0.45))
    back = Box((-0.1, 0.0, 0.25), 0.0, (0.25, 0.25, 0.25))
    return SceneGraph(
        "A",
        Room(),
        (
            new_node(1, "cabinet", "blue", front, Shape("cube", (0.2, 0.3, 0.9)), "A"),
            new_node(2, "table", "brown", back, Shape("cube", (0.8, 0.5, 0.2)), "A"),
        ),
    )


@cache
def hidden_box_iou(clip_eps: float) -> float:
    """Train both nodes, render the hidden box alone from held-out views: IoU with its GT."""
    cfg = smoke()
    cfg.data = DataConfig(width=48, height=36, train_views=24, test_views=4)
    cfg.model = FieldConfig(object_res=16, background_res=(8, 8, 6))
    cfg.train = TrainConfig(
        steps=300,
        rays_object=128,
        rays_background=16,
        samples_object=16,
        samples_surface=4,
        clip_eps=clip_eps,
    )
    gt = two_boxes()
    cams = ring_cameras(24, 48, 36, 70.0, seed=0)
    rays = make_rays(cams, [render_gt(gt, c) for c in cams])
    model = train_scene(cfg, gt, rays, 0, NoCheckpoint(), HOOKS)
    empty = GridBank(1, (2, 2, 2), init_density=-40.0)
    fields = Fields({"A/objects": model.objects, "A/background": empty}, 32, 2)
    alone_model = replace(model.graph, nodes=(model.graph.get(2),))
    alone_gt = replace(gt, nodes=(gt.get(2),))
    inter = union = 0
    for cam in ring_cameras(4, 48, 36, 70.0, None, offset=0.5):
        o, d = camera_rays(cam)
        mask = render_graph(alone_model, fields, o, d)["opacity"] > 0.5
        truth = render_gt(alone_gt, cam).instance.reshape(-1) == 2
        inter, union = inter + int((mask & truth).sum()), union + int((mask | truth).sum())
    return inter / union


def test_an_occluded_node_keeps_its_shape() -> None:
    """With samples clipped at d + ε on other nodes' pixels the half-hidden box is intact."""
    assert hidden_box_iou(clip_eps=0.02) >= 0.9


def test_without_the_clip_the_occluder_carves_the_hidden_node() -> None:
    """The same training sampling the whole box interval on the occluder's pixels: worse."""
    assert hidden_box_iou(clip_eps=100.0) < hidden_box_iou(clip_eps=0.02) - 0.05


@pytest.mark.parametrize("bank", [GridBank(3, (4, 5, 6)), MLPBank(3, 8, 2)])
def test_banks_are_empty_outside_their_box_and_batch_like_a_loop(bank) -> None:
    q = torch.rand(3, 50, 3) * 4 - 2
    sigma, rgb = bank(q)
    outside = (q.abs() > 1).any(-1)
    assert (sigma[outside] == 0).all() and rgb.shape == (3, 50, 3)
    for k in range(3):
        s_k, c_k = bank(q[k : k + 1], torch.tensor([k]))
        assert torch.allclose(s_k[0], sigma[k], atol=1e-5) and torch.allclose(
            c_k[0], rgb[k], atol=1e-6
        )


def test_paper_profile_builds_mlp_nodes_and_takes_two_steps() -> None:
    """vMAP-sized MLP nodes (hidden 32 / 128) with the paper's budgets, images shrunk."""
    cfg = PROFILES["paper"]()
    assert cfg.model.kind == "mlp" and (cfg.model.object_hidden, cfg.model.background_hidden) == (
        32,
        128,
    )
    cfg.train.steps = 2
    gt = two_boxes()
    cams = ring_cameras(4, 24, 18, cfg.data.fov_deg, seed=0)
    rays = make_rays(cams, [render_gt(gt, c) for c in cams])
    model = train_scene(cfg, gt, rays, 0, NoCheckpoint(), HOOKS)
    assert isinstance(model.objects, MLPBank) and model.objects.n == 2
    assert model.background.weights[0].shape == (1, 3 + 6 * cfg.model.pe_levels, 128)
