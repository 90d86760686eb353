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

from .rules import DIRECTIONS, EMPTY, PAWN, WALL, ActionTable, cell

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


def scan(pawns: np.ndarray, pos: Cell, d: int) -> tuple[int, int, int]:
    """Along direction ``d`` from ``pos``: distance and kind of the nearest non-empty cell, and
    distance of the next non-empty cell beyond it (the ray ends at the board's edge)."""
    dy, dx = DIRECTIONS[d]
    found: list[tuple[int, int]] = []
    i = 1
    while len(found) < 2:
        c = cell(pawns, pos[0] + i * dy, pos[1] + i * dx)
        if c != EMPTY:
            found.append((i, c))
            if c == WALL:
                found.append((i + 1, WALL))
        i += 1
    (k, kind), (second, _) = found[:2]
    return k, kind, second


def moves_from(
    pawns: np.ndarray, pos: Cell, values: list[int], excluded: frozenset[Concept] = frozenset()
) -> list[Move]:
    """Every afforded move from ``pos`` with a length the options can express: one scan per
    direction gives the unit step and the only jump that can be afforded (over the nearest
    pawn); the tests check this against ``rules.move_target`` for every length."""
    out = []
    for d, (dy, dx) in enumerate(DIRECTIONS):
        k, kind, second = scan(pawns, pos, d)
        if 1 in values and k > 1:
            out.append(Move(d, 1, (pos[0] + dy, pos[1] + dx)))
        jump = Move(d, 2 * k, (pos[0] + 2 * k * dy, pos[1] + 2 * k * dx))
        if kind == PAWN and 2 * k in values and second > 2 * k and jump.concept not in excluded:
            out.append(jump)
    return out


class Graph(dict):
    """The afforded moves from each empty cell, computed on first use and kept (one board's
    graph is searched several times)."""

    def __init__(self, pawns: np.ndarray, values: list[int]) -> None:
        super().__init__()
        self.pawns, self.values = pawns, values

    def __missing__(self, pos: Cell) -> list[Move]:
        self[pos] = moves_from(self.pawns, pos, self.values)
        return self[pos]


def move_graph(pawns: np.ndarray, values: list[int]) -> Graph:
    """The move graph of a board (lazy: cells are expanded as a search reaches them)."""
    return Graph(pawns, values)


def search(
    graph: Graph, start: Cell, goal: Cell, excluded: frozenset[Concept] = frozenset()
) -> Plan | None:
    """BFS: a shortest plan from ``start`` to ``goal`` with the fewest jumps, or None."""
    dist, jumps, parent = {start: 0}, {start: 0}, {start: None}
    queue = deque([start])
    while queue:
        p = queue.popleft()
        if p == goal:
            break
        for m in graph[p]:
            if m.concept in excluded:
                continue
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


def plan(
    pawns: np.ndarray,
    start: Cell,
    goal: Cell,
    values: list[int],
    excluded: frozenset[Concept] = frozenset(),
) -> Plan | None:
    """A shortest plan from ``start`` to ``goal`` with the fewest jumps, or None if unreachable."""
    return search(move_graph(pawns, values), start, goal, excluded)


def distance_map(
    pawns: np.ndarray,
    goal: Cell,
    values: list[int],
    unreachable: int = -1,
    excluded: frozenset[Concept] = frozenset(),
) -> np.ndarray:
    """Oracle steps from every cell to ``goal`` (``unreachable`` where none), by a backward BFS
    over the reversed move graph: the potential of the optional reward shaping."""
    preds: dict[Cell, list[Cell]] = {}
    graph = move_graph(pawns, values)
    for p in map(tuple, np.argwhere(~pawns)):
        for m in graph[(int(p[0]), int(p[1]))]:
            if m.concept not in excluded:
                preds.setdefault(m.target, []).append((int(p[0]), int(p[1])))
    out = np.full(pawns.shape, unreachable, dtype=np.int64)
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
