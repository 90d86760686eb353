"""The memory oracle: the reference for rapid problem solving (trial-1 -> trial-3 speed-up).

The BFS oracle knows the whole board, so it needs the same steps in every trial (its speed-up is
0 by construction; design-risk note, item 6). The memory oracle knows only what the panels it has
seen showed, and keeps it for the whole episode (never reset per trial):

- what a panel shows at ``pos`` (``rules.panel_symbols``): per direction the cells up to the
  nearest non-empty one are empty, that one is a pawn or the board's edge, and beyond a pawn the
  cells up to the next non-empty one are empty and that one is a pawn when it lies on the board
  (the board's size is a rule of the game, so the edge is known);
- trial 1 *explores*: BFS on the board where every unseen cell is assumed empty (the free-space
  assumption), replanned after every panel; the first move of such a plan is always afforded,
  because the panel at ``pos`` shows every cell a move from ``pos`` depends on;
- trials 2 and 3 *exploit*: BFS over the moves whose every cell was seen ("BFS on what it saw").
  A trial-1 route that reached the goal consists of such moves, so trial 2 is no longer than
  trial 1, and once every cell of a shortest plan was seen trial 2 has the oracle's length. When
  what it saw does not join start and goal (trial 1 failed), it explores again.

RECONSTRUCTED (not in the paper): the paper's agents are scored by their speed-up, but no
reference planner is described; this one is ours. It reads the goal's cell from the panel's goal
offset, so it needs the default panel (``show_offset``, ``show_landing``).
"""

from __future__ import annotations

import numpy as np

from . import batched
from .evaluate import Policy
from .oracle import Cell, Move, plan, search
from .rules import DIRECTIONS, PAWN, WALL, ActionTable

UNSEEN, FREE, BLOCKED = -1, 0, 1  # what the memory holds per cell (BLOCKED = a pawn)


def new_memory(height: int, width: int) -> np.ndarray:
    """(H, W) memory of one board at the start of an episode: every cell unseen."""
    return np.full((height, width), UNSEEN, np.int8)


def remember(memory: np.ndarray, pos: Cell, symbols: np.ndarray) -> None:
    """Write what the panel ``symbols`` (14,) shown at ``pos`` reveals into ``memory``, in place."""
    h, w = memory.shape
    memory[pos] = FREE
    dist, kind, landing = symbols[:4], symbols[4:8], symbols[8:12]
    for d, (dy, dx) in enumerate(DIRECTIONS):
        far = landing[d] if kind[d] == PAWN else dist[d]
        for i in range(1, far + 1):
            y, x = pos[0] + i * dy, pos[1] + i * dx
            if 0 <= y < h and 0 <= x < w:
                memory[y, x] = BLOCKED if i in (dist[d], far) else FREE


def _seen(memory: np.ndarray, y: int, x: int) -> int:
    h, w = memory.shape
    return memory[y, x] if 0 <= y < h and 0 <= x < w else WALL


def seen_moves(memory: np.ndarray, pos: Cell, values: list[int]) -> list[Move]:
    """The moves from ``pos`` that the memory proves afforded: a unit step into a cell seen free,
    a jump of 2k over a cell seen holding a pawn with every other cell up to the landing seen free
    (the rule of ``rules.move_target`` on the seen cells only)."""
    out = []
    for d, (dy, dx) in enumerate(DIRECTIONS):
        ray = [_seen(memory, pos[0] + i * dy, pos[1] + i * dx) for i in range(1, max(values) + 1)]
        for n in values:
            k = n // 2
            if n == 1:
                ok = ray[0] == FREE
            else:
                others = ray[: k - 1] + ray[k:n]
                ok = n % 2 == 0 and ray[k - 1] == BLOCKED and all(c == FREE for c in others)
            if ok:
                out.append(Move(d, n, (pos[0] + n * dy, pos[1] + n * dx)))
    return out


class SeenGraph(dict):
    """The move graph of what was seen, in the lazy form ``oracle.search`` expects."""

    def __init__(self, memory: np.ndarray, values: list[int]) -> None:
        super().__init__()
        self.memory, self.values = memory, values

    def __missing__(self, pos: Cell) -> list[Move]:
        self[pos] = seen_moves(self.memory, pos, self.values)
        return self[pos]


def next_move(memory: np.ndarray, pos: Cell, goal: Cell, trial: int, values: list[int]):
    """The memory oracle's move: in trial 1 (``trial`` 0) the first move of a free-space plan; in
    later trials the first move of a BFS plan over what was seen, or of a free-space plan when
    what was seen does not reach the goal. None when no plan reaches the goal."""
    best = search(SeenGraph(memory, values), pos, goal) if trial > 0 else None
    if best is None:
        best = plan(memory == BLOCKED, pos, goal, values)
    return best.moves[0] if best is not None and best.moves else None


def memory_oracle_policy(table: ActionTable, seed: int) -> Policy:
    """The memory oracle as a batched policy. It reads the panels' symbols and the trial counter
    only; each board's memory is cleared at the first step of its episode. With no plan (the seen
    pawns cut the goal off) it takes a random afforded unit step."""
    rng = np.random.default_rng(seed)
    values = table.values()
    memories: list[np.ndarray] = []

    def act(state: batched.State, obs: np.ndarray) -> np.ndarray:
        fresh = (state.trial == 0) & (state.t == 0)
        if len(memories) != len(state.pos):
            memories[:] = [new_memory(*state.pawns.shape[1:]) for _ in state.pos]
        out = np.zeros(len(state.pos), np.int64)
        for b, sym in enumerate(batched.symbols(state)):
            if state.done[b]:
                continue
            if fresh[b]:
                memories[b] = new_memory(*state.pawns.shape[1:])
            pos = (int(state.pos[b, 0]), int(state.pos[b, 1]))
            goal = (pos[0] + int(sym[12]), pos[1] + int(sym[13]))  # the panel's goal offset
            remember(memories[b], pos, sym)
            move = next_move(memories[b], pos, goal, int(state.trial[b]), values)
            if move is None:
                steps = [d for d in range(4) if sym[d] > 1] or [0]
                out[b] = table.index(int(rng.choice(steps)), 1)
            else:
                out[b] = table.index(move.direction, move.value)
        return out

    return act
