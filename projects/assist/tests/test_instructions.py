"""The instruction parser maps English commands to node operations and refuses what it cannot."""

from __future__ import annotations

import math
import re

import pytest
from assist.instructions import Operation, parse, run
from assist.room import room_a, room_b

from reprokit.errors import UserError

COMMANDS = [
    ("move the red ball 0.5 m left", Operation("transform", (("red", "ball"),), (-0.5, 0.0, 0.0))),
    (
        "Translate the bin 1 m forward and 0.25 m right.",
        Operation("transform", ((None, "bin"),), (0.25, 1.0, 0.0)),
    ),
    (
        "rotate the brown table 90 degrees",
        Operation("transform", (("brown", "table"),), yaw_deg=90.0),
    ),
    ("turn the cabinet -45 degrees", Operation("transform", ((None, "cabinet"),), yaw_deg=-45.0)),
    (
        "copy the bin 0.5 m right and 0.5 m back",
        Operation("duplicate", ((None, "bin"),), (0.5, -0.5, 0.0)),
    ),
    ("delete the bin", Operation("delete", ((None, "bin"),))),
    ("remove the blue cabinet", Operation("delete", (("blue", "cabinet"),))),
    (
        "swap the red ball and the orange table",
        Operation("swap", (("red", "ball"), ("orange", "table"))),
    ),
    (
        "insert the chair from scene B at 0.25 -0.02",
        Operation("insert", ((None, "chair"),), scene="B", at=(0.25, -0.02)),
    ),
]


@pytest.mark.parametrize(("command", "expected"), COMMANDS)
def test_parse(command: str, expected: Operation) -> None:
    assert parse(command) == expected


def test_commands_resolve_to_the_right_node_operations() -> None:
    a, scenes = room_a(), {"B": room_b()}
    assert run("move the red ball 0.5 m left", a, scenes) == a.transform(3, (-0.5, 0, 0))
    assert run("rotate the brown table 90 degrees", a, scenes) == a.transform(1, yaw=math.pi / 2)
    assert run("delete the bin", a, scenes) == a.delete(4)
    assert run("swap the red ball and the orange table", a, scenes) == a.swap(3, 5)
    assert run("duplicate the bin 1 m right", a, scenes) == a.duplicate(4, (1.0, 0, 0))
    inserted = run("insert the lamp from scene B at 1 1", a, scenes)
    assert inserted.get(6).label == "lamp" and inserted.get(6).box.centre[:2] == (1.0, 1.0)


BAD = [
    ("delete the sofa", "unknown object 'sofa'"),
    ("delete the chair", "no object matches 'chair' in scene A"),
    ("move the table 1 m left", "'table' is ambiguous: nodes [1, 5] match"),
    ("delete the pink ball", "unknown colour 'pink'"),
    ("move the red ball 1 m up", "unknown direction 'up'"),
    ("insert the chair from scene C at 0 0", "unknown scene 'C'"),
    ("fly the ball to the moon", "cannot parse command"),
]


@pytest.mark.parametrize(("command", "message"), BAD)
def test_refuses_with_one_clear_line(command: str, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)) as e:
        run(command, room_a(), {"B": room_b()})
    assert "\n" not in str(e.value)
