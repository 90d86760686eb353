"""The oracle planner: breadth-first search over the afforded options of a fully known board.

The search is lexicographic: fewest steps first, and among the shortest plans the one with the
fewest jumps (the split generators read this number as the plan's composition depth).
A *concept* is a jump's (pawn distance k, direction) pair; ``excluded`` concepts are left out of
the search, which is how the conceptual split tests whether a held-out concept is needed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from .rules import ActionTable, move_target

Cell = tuple[int, int]
Concept = tuple[int, int]  # (k, direction) of a jump over a pawn at distance k


@dataclass(frozen=True)
class Move:
    direction: int
    value: int  # the move length: 1 = unit step, 2k = jump over a pawn at distance k
    target: Cell

    @property
    def concept(self) -> Concept | None:
        return None if self.value == 1 else (self.value // 2, self.direction)


@dataclass(frozen=True)
class Plan:
    moves: tuple[Move, ...]

    @property
    def steps(self) -> int:
        return len(self.moves)

    @property
    def jumps(self) -> int:
        return sum(m.value > 1 for m in self.moves)

    @property
    def concepts(self) -> frozenset[Concept]:
        return frozenset(m.concept for m in self.moves if m.concept is not None)


def moves_from(
    pawns: np.ndarray, pos: Cell, values: list[int], excluded: frozenset[Concept] = frozenset()
) -> list[Move]:
    """Every afforded move from ``pos`` with a length the options can express."""
    out = []
    for d in range(4):
        for n in values:
            target = move_target(pawns, pos, d, n)
            move = Move(d, n, target) if target is not None else None
            if move is not None and move.concept not in excluded:
                out.append(move)
    return out


def plan(
    pawns: np.ndarray,
    start: Cell,
    goal: Cell,
    values: list[int],
    excluded: frozenset[Concept] = frozenset(),
) -> Plan | None:
    """A shortest plan from ``start`` to ``goal`` with the fewest jumps, or None if unreachable."""
    dist, jumps, parent = {start: 0}, {start: 0}, {start: None}
    queue = deque([start])
    while queue:
        p = queue.popleft()
        if p == goal:
            break
        for m in moves_from(pawns, p, values, excluded):
            c, j = m.target, jumps[p] + (m.value > 1)
            if c not in dist:
                dist[c], jumps[c], parent[c] = dist[p] + 1, j, (p, m)
                queue.append(c)
            elif dist[c] == dist[p] + 1 and j < jumps[c]:
                jumps[c], parent[c] = j, (p, m)
    if goal not in dist:
        return None
    moves, c = [], goal
    while parent[c] is not None:
        c, m = parent[c]
        moves.append(m)
    return Plan(tuple(reversed(moves)))


def distance_map(
    pawns: np.ndarray, goal: Cell, values: list[int], unreachable: int = -1
) -> np.ndarray:
    """Oracle steps from every cell to ``goal`` (``unreachable`` where none), by a backward BFS
    over the reversed move graph: the potential of the optional reward shaping."""
    h, w = pawns.shape
    preds: dict[Cell, list[Cell]] = {}
    for y in range(h):
        for x in range(w):
            if not pawns[y, x]:
                for m in moves_from(pawns, (y, x), values):
                    preds.setdefault(m.target, []).append((y, x))
    out = np.full((h, w), unreachable, dtype=np.int64)
    out[goal] = 0
    queue = deque([goal])
    while queue:
        c = queue.popleft()
        for p in preds.get(c, []):
            if out[p] == unreachable:
                out[p] = out[c] + 1
                queue.append(p)
    return out


def oracle_action(pawns: np.ndarray, pos: Cell, goal: Cell, table: ActionTable) -> int:
    """The action of the first move of a shortest plan (0 when the goal is unreachable)."""
    best = plan(pawns, pos, goal, table.values())
    if best is None or not best.moves:
        return 0
    return table.index(best.moves[0].direction, best.moves[0].value)
