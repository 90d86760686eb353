"""A small rule-based parser of English edit commands: the offline stand-in for the paper's
language control (no LLM is available offline; README, Deviations).

Grammar (case-insensitive; directions are world axes: right/left = ±x, forward/back = ±y):

  move|translate <object> <d> m <dir> [and <d> m <dir>]
  rotate|turn <object> <angle> degrees
  duplicate|copy <object> <d> m <dir> [and <d> m <dir>]
  delete|remove <object>
  swap <object> and <object>
  insert|add <object> from scene <S> at <x> <y>
  <object> = the [<colour>] <label>

Each command becomes an ``Operation``; ``apply`` resolves its objects in the scene graph (an unknown
or ambiguous object is a one-line ``UserError``) and calls the matching node operation.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from assist.nodes import CLASSES, COLOURS, SceneGraph
from reprokit.errors import UserError

DIRECTIONS = {"right": (1, 0), "left": (-1, 0), "forward": (0, 1), "back": (0, -1)}
_OBJ = r"the\s+(?:(?P<{0}c>\w+)\s+)?(?P<{0}>\w+)"
_STEP = r"(?P<{0}>-?[\d.]+)\s*m\s+(?P<{0}dir>\w+)"
PATTERNS = {
    "transform": rf"(?:move|translate)\s+{_OBJ.format('a')}\s+{_STEP.format('d1')}"
    rf"(?:\s+and\s+{_STEP.format('d2')})?",
    "rotate": rf"(?:rotate|turn)\s+{_OBJ.format('a')}\s+(?P<deg>-?[\d.]+)\s*degrees?",
    "duplicate": rf"(?:duplicate|copy)\s+{_OBJ.format('a')}\s+{_STEP.format('d1')}"
    rf"(?:\s+and\s+{_STEP.format('d2')})?",
    "delete": rf"(?:delete|remove)\s+{_OBJ.format('a')}",
    "swap": rf"swap\s+{_OBJ.format('a')}\s+and\s+{_OBJ.format('b')}",
    "insert": rf"(?:insert|add)\s+{_OBJ.format('a')}\s+from\s+scene\s+(?P<scene>\w+)\s+at\s+"
    r"(?P<x>-?[\d.]+)\s+(?P<y>-?[\d.]+)",
}


@dataclass(frozen=True)
class Operation:
    """A parsed command: the verb, the named objects (colour, label), and its parameters."""

    verb: str
    objects: tuple[tuple[str | None, str], ...]
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    yaw_deg: float = 0.0
    scene: str | None = None
    at: tuple[float, float] | None = None

    def inverse(self) -> Operation:
        """The inverse rigid motion of a transform/rotate (the wrong-method control)."""
        if self.verb != "transform":
            raise UserError(f"'{self.verb}' has no inverse motion")
        neg = tuple(-t for t in self.translation)
        return Operation(self.verb, self.objects, neg, -self.yaw_deg)


def _object(m: re.Match, key: str) -> tuple[str | None, str]:
    colour, label = m.group(f"{key}c"), m.group(key)
    if colour is not None and colour not in COLOURS:
        raise UserError(f"unknown colour '{colour}' (known: {', '.join(COLOURS[1:])})")
    if label not in CLASSES[1:]:
        raise UserError(f"unknown object '{label}' (known labels: {', '.join(CLASSES[1:])})")
    return colour, label


def _steps(m: re.Match) -> tuple[float, float, float]:
    x = y = 0.0
    for key in ("d1", "d2"):
        if m.group(key) is None:
            continue
        direction = m.group(f"{key}dir")
        if direction not in DIRECTIONS:
            raise UserError(f"unknown direction '{direction}' (use {', '.join(DIRECTIONS)})")
        dx, dy = DIRECTIONS[direction]
        x, y = x + dx * float(m.group(key)), y + dy * float(m.group(key))
    return (x, y, 0.0)


def parse(command: str) -> Operation:
    """One English command → an ``Operation`` (one-line ``UserError`` if it does not parse)."""
    text = " ".join(command.lower().strip().rstrip(".").split())
    for verb, pattern in PATTERNS.items():
        m = re.fullmatch(pattern, text)
        if m is None:
            continue
        objs = (_object(m, "a"),) + ((_object(m, "b"),) if verb == "swap" else ())
        if verb == "rotate":
            return Operation("transform", objs, yaw_deg=float(m.group("deg")))
        if verb in ("transform", "duplicate"):
            return Operation(verb, objs, translation=_steps(m))
        if verb == "insert":
            at = (float(m.group("x")), float(m.group("y")))
            return Operation(verb, objs, scene=m.group("scene").upper(), at=at)
        return Operation(verb, objs)
    raise UserError(
        f"cannot parse command {command!r} (verbs: move, rotate, duplicate, delete, swap, insert)"
    )


def apply(op: Operation, graph: SceneGraph, scenes: dict[str, SceneGraph]) -> SceneGraph:
    """Resolve the operation's objects and apply it (``scenes``: other rooms by id, for insert)."""
    if op.verb == "insert":
        if op.scene not in scenes:
            raise UserError(f"unknown scene '{op.scene}' (known: {', '.join(scenes)})")
        src = scenes[op.scene]
        node = src.resolve(op.objects[0][1], op.objects[0][0])
        centre = (op.at[0], op.at[1], node.box.centre[2])
        return graph.import_node(src, node.node_id, centre)
    nodes = [graph.resolve(label, colour) for colour, label in op.objects]
    if op.verb == "transform":
        return graph.transform(nodes[0].node_id, op.translation, math.radians(op.yaw_deg))
    if op.verb == "duplicate":
        return graph.duplicate(nodes[0].node_id, op.translation)
    if op.verb == "delete":
        return graph.delete(nodes[0].node_id)
    return graph.swap(nodes[0].node_id, nodes[1].node_id)


def run(command: str, graph: SceneGraph, scenes: dict[str, SceneGraph]) -> SceneGraph:
    """Parse and apply one command."""
    return apply(parse(command), graph, scenes)
