"""The scene node record and the scene graph with ASSIST's editing API.

A ``SceneNode`` bundles what the paper stores per object: an id, a semantic label and feature, an
oriented box (its pose), the content that fills the box and the scene it came from. The content is
either a trained neural field (``FieldRef``, rendered by ``render``) or an analytic shape
(``room.Shape``, rendered exactly by ``room``), so every edit is applied by the same code to the
trained nodes and to the ground truth.

Edits never retrain anything: they only change poses and node membership. ``source_box`` records
where a node's content was observed during training (the box of the node it was copied from), used
by the disocclusion mask, the wrong-frame control and the DM-NeRF-style baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from assist.geometry import Box
from reprokit.errors import UserError

CLASSES = ("background", "table", "cabinet", "ball", "bin", "chair", "lamp")
CLASSES += ("object",)  # a Replica thing whose class no label above names (replica.LABELS)
COLOURS = ("none", "brown", "blue", "red", "green", "orange", "purple", "yellow", "grey")


@dataclass(frozen=True)
class FieldRef:
    """A trained field: ``bank`` names a batched field module, ``index`` the node inside it."""

    bank: str
    index: int


@dataclass(frozen=True)
class SceneNode:
    """One object node: id, semantics, pose (box), content, scene of origin and provenance."""

    node_id: int
    label: str
    colour: str
    box: Box
    content: Any  # FieldRef (trained) or room.Shape (analytic ground truth)
    scene_id: str
    source_scene: str
    source_id: int
    source_box: Box

    @property
    def semantic_id(self) -> int:
        return CLASSES.index(self.label)

    @property
    def feature(self) -> np.ndarray:
        """Semantic feature: one-hot class ⊕ one-hot colour (CLIP features are out of reach)."""
        f = np.zeros(len(CLASSES) + len(COLOURS), np.float32)
        f[self.semantic_id] = 1.0
        f[len(CLASSES) + COLOURS.index(self.colour)] = 1.0
        return f


def new_node(
    node_id: int, label: str, colour: str, box: Box, content: Any, scene_id: str
) -> SceneNode:
    """A node observed where it stands (its own provenance)."""
    return SceneNode(node_id, label, colour, box, content, scene_id, scene_id, node_id, box)


@dataclass(frozen=True)
class SceneGraph:
    """The background (stuff) node's content plus the object nodes, keyed by id. Immutable: every
    operation returns a new graph, so an edit and its controls share the trained nodes."""

    scene_id: str
    background: Any
    nodes: tuple[SceneNode, ...]

    def ids(self) -> list[int]:
        return [n.node_id for n in self.nodes]

    def get(self, node_id: int) -> SceneNode:
        for n in self.nodes:
            if n.node_id == node_id:
                return n
        raise UserError(f"no node with id {node_id} (ids: {self.ids()})")

    # -- query --------------------------------------------------------------------------------
    def query(self, label: str | None = None, colour: str | None = None) -> list[SceneNode]:
        """Nodes matching a semantic label and/or a colour attribute."""
        return [
            n
            for n in self.nodes
            if (label is None or n.label == label) and (colour is None or n.colour == colour)
        ]

    def resolve(self, label: str, colour: str | None = None) -> SceneNode:
        """The single node a phrase like 'the red ball' names; a clear error otherwise."""
        found = self.query(label, colour)
        name = f"{colour} {label}" if colour else label
        if not found:
            known = ", ".join(sorted({f"{n.colour} {n.label}" for n in self.nodes}))
            raise UserError(f"no object matches '{name}' in scene {self.scene_id} (known: {known})")
        if len(found) > 1:
            ids = [n.node_id for n in found]
            raise UserError(f"'{name}' is ambiguous: nodes {ids} match; name a colour too")
        return found[0]

    # -- edits ----------------------------------------------------------------------------------
    def _with(self, nodes: list[SceneNode]) -> SceneGraph:
        return replace(self, nodes=tuple(nodes))

    def next_id(self) -> int:
        return max(self.ids(), default=0) + 1

    def add(self, node: SceneNode) -> SceneGraph:
        if node.node_id in self.ids():
            raise UserError(f"node id {node.node_id} is already in scene {self.scene_id}")
        return self._with([*self.nodes, replace(node, scene_id=self.scene_id)])

    def delete(self, node_id: int) -> SceneGraph:
        self.get(node_id)
        return self._with([n for n in self.nodes if n.node_id != node_id])

    def transform(
        self, node_id: int, translation: tuple[float, float, float] = (0, 0, 0), yaw: float = 0.0
    ) -> SceneGraph:
        """Move a node along the floor and/or turn it about its vertical axis (yaw in rad)."""
        self.get(node_id)
        return self._with(
            [
                replace(n, box=n.box.moved(translation, yaw)) if n.node_id == node_id else n
                for n in self.nodes
            ]
        )

    def duplicate(self, node_id: int, translation: tuple[float, float, float]) -> SceneGraph:
        """A copy of a node (same content) at a new place, with a fresh id."""
        src = self.get(node_id)
        copy = replace(src, node_id=self.next_id(), box=src.box.moved(translation))
        return self._with([*self.nodes, copy])

    def swap(self, id_a: int, id_b: int) -> SceneGraph:
        """Exchange the two nodes' contents and semantics, keeping their boxes: each field is
        rescaled into the other box by the canonical frame (the same affine map on the shape)."""
        a, b = self.get(id_a), self.get(id_b)

        def take(dst: SceneNode, src: SceneNode) -> SceneNode:
            return replace(
                dst,
                label=src.label,
                colour=src.colour,
                content=src.content,
                source_scene=src.source_scene,
                source_id=src.source_id,
                source_box=src.source_box,
            )

        out = {id_a: take(a, b), id_b: take(b, a)}
        return self._with([out.get(n.node_id, n) for n in self.nodes])

    def import_node(
        self, other: SceneGraph, node_id: int, centre: tuple[float, float, float]
    ) -> SceneGraph:
        """Cross-scene insertion: a node of ``other`` placed at ``centre`` with a fresh id."""
        src = other.get(node_id)
        box = replace(src.box, centre=centre)
        return self.add(replace(src, node_id=self.next_id(), box=box))
