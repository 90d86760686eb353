"""The scene graph stays consistent under every edit; the same edit drives GT and nodes."""

from __future__ import annotations

import math

import pytest
from assist.configs import smoke
from assist.nodes import FieldRef
from assist.room import room_a, room_b
from assist.train import build_model

from reprokit.errors import UserError


def test_delete_duplicate_and_transform() -> None:
    a = room_a()
    d = a.delete(2)
    assert d.ids() == [1, 3, 4, 5] and a.ids() == [1, 2, 3, 4, 5]  # edits return new graphs
    dup = a.duplicate(4, (0.5, -0.5, 0.0))
    new = dup.get(6)
    assert new.content is a.get(4).content and new.label == "bin"
    assert new.box.centre == pytest.approx((-0.1, -1.1, 0.2)) and new.source_box == a.get(4).box
    moved = a.transform(1, (0.1, 0.0, 0.0), math.pi / 2)
    assert moved.get(1).box.yaw == pytest.approx(0.3 + math.pi / 2)
    assert (
        moved.get(1).box.centre[0] == pytest.approx(-0.4)
        and moved.get(1).source_box == a.get(1).box
    )
    with pytest.raises(UserError, match="no node with id 9"):
        a.delete(9)


def test_swap_exchanges_content_and_semantics_but_keeps_boxes() -> None:
    a = room_a()
    s = a.swap(3, 5)
    ball, table = a.get(3), a.get(5)
    assert s.get(3).box == ball.box and s.get(5).box == table.box
    assert s.get(3).content == table.content and s.get(5).content == ball.content
    assert (s.get(3).label, s.get(3).colour) == ("table", "orange")
    assert s.get(5).source_box == ball.box and s.get(3).source_id == 5
    assert sorted(s.ids()) == sorted(a.ids())
    assert s.swap(3, 5) == a  # swapping twice is the identity


def test_cross_scene_import_gets_a_fresh_id_and_keeps_provenance() -> None:
    a, b = room_a(), room_b()
    out = a.import_node(b, 1, (0.25, -0.02, 0.4))
    chair = out.get(6)
    assert chair.scene_id == "A" and chair.source_scene == "B" and chair.source_id == 1
    assert chair.content == b.get(1).content and chair.box.centre == (0.25, -0.02, 0.4)
    assert len(set(out.ids())) == len(out.ids())


def test_node_graph_mirrors_gt_and_carries_semantic_features() -> None:
    gt = room_a()
    model = build_model(smoke(), gt)
    assert model.graph.ids() == gt.ids()
    assert [n.box for n in model.graph.nodes] == [n.box for n in gt.nodes]
    assert all(isinstance(n.content, FieldRef) for n in model.graph.nodes)
    f = gt.get(3).feature
    assert f.sum() == 2 and f[gt.get(3).semantic_id] == 1  # one-hot class ⊕ one-hot colour
    assert [n.node_id for n in gt.query(label="table")] == [1, 5]
    assert [n.node_id for n in gt.query(colour="red")] == [3]
