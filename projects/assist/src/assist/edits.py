"""The edit suite and its wrong-method controls, each an English command run by the parser.

Every edit is applied by the same code to the trained node graph and to the analytic GT graph,
so the edited GT is exact. Controls on the same trained nodes (design risk 4): ``noop`` (the
unedited scene), ``world`` (each moved node sampled in its new box but its field read in the frame
it was trained in) and, for rigid motions, ``inverse`` (the opposite motion).
"""

from __future__ import annotations

from assist.instructions import parse, run
from assist.nodes import SceneGraph

# (name, command): translate, rotate, duplicate, delete, swap, cross-scene insert
SUITE = (
    ("translate", "move the red ball 0.5 m left"),
    ("rotate", "rotate the brown table 90 degrees"),
    ("duplicate", "duplicate the bin 0.5 m right and 0.5 m back"),
    ("delete", "delete the cabinet"),
    ("swap", "swap the red ball and the orange table"),
    ("insert", "insert the chair from scene B at 0.25 -0.02"),
)
RIGID = ("translate", "rotate")  # edits with an inverse-motion control
INTRA = tuple(name for name, _ in SUITE if name != "insert")  # the baseline's reach


def edited(command: str, graph: SceneGraph, scenes: dict[str, SceneGraph]) -> SceneGraph:
    """The graph after one command."""
    return run(command, graph, scenes)


def inverse(command: str, graph: SceneGraph) -> SceneGraph:
    """The graph after the inverse motion of a rigid command (the wrong-direction control)."""
    from assist.instructions import apply

    return apply(parse(command).inverse(), graph, {})


def edited_ids(before: SceneGraph, after: SceneGraph) -> list[int]:
    """Nodes whose box or content changed, or that are new (deleted ones have no pixels)."""
    old = {n.node_id: n for n in before.nodes}
    return [
        n.node_id
        for n in after.nodes
        if n.node_id not in old
        or old[n.node_id].box != n.box
        or old[n.node_id].source_id != n.source_id
    ]
