"""The memory oracle: it explores in trial 1, then plans on what it saw, and it never knows more
than the panels showed."""

import numpy as np
from halma import batched
from halma.evaluate import evaluate
from halma.memory import (
    BLOCKED,
    FREE,
    UNSEEN,
    SeenGraph,
    memory_oracle_policy,
    new_memory,
    remember,
    seen_moves,
)
from halma.oracle import moves_from, plan, search
from halma.rules import Rules, action_table

# The pawn row 1 col 3 is out of sight from the start (2, 0): the rows of the start look free, so
# trial 1 walks 6 unit steps to the goal (2, 6); on the way, the panel at (2, 3) shows the pawn
# above. With it remembered, trial 2 steps up and jumps it (up, right 6, down): the 3 steps of BFS.
BOARD = [
    ".o.o..o",
    "...o...",
    "S.....G",
    ".......",
    ".......",
]


def episode(rows: list[str], limit: int = 20) -> np.ndarray:
    """Steps of the memory oracle's 3 trials on a board drawn as text (o pawn, S start, G goal)."""
    rules = Rules(height=len(rows), width=len(rows[0]))
    table = action_table(rules)
    pawns = np.array([[c == "o" for c in r] for r in rows])
    start, goal = (np.argwhere(np.array([list(r) for r in rows]) == c)[0] for c in "SG")
    state = batched.reset(
        pawns[None], start[None], goal[None], np.zeros((1, 10), int), rules, limit=np.array([limit])
    )
    policy = memory_oracle_policy(table, 0)
    while not state.done.all():
        state, _, info = batched.step(state, policy(state, None), table, rules)
        assert info["valid"].all()
    assert state.success.all()
    return state.steps[0]


def test_trial_one_explores_then_trial_two_has_the_bfs_length():
    rules = Rules(height=5, width=7)
    pawns = np.array([[c == "o" for c in r] for r in BOARD])
    bfs = plan(pawns, (2, 0), (2, 6), action_table(rules).values()).steps
    first, second, third = episode(BOARD)
    assert bfs == 3 and first == 6
    assert second <= first and second == bfs and third == bfs


def test_a_fully_seen_board_gives_the_oracles_moves_and_plans():
    rng, values = np.random.default_rng(7), action_table(Rules()).values()
    for _ in range(30):
        pawns = rng.random((9, 9)) < rng.uniform(0.1, 0.5)
        memory = np.where(pawns, BLOCKED, FREE).astype(np.int8)
        free = np.argwhere(~pawns)
        s, g = (tuple(int(v) for v in c) for c in free[rng.choice(len(free), 2, replace=False)])
        as_set = lambda ms: {(m.direction, m.value, m.target) for m in ms}  # noqa: E731
        assert as_set(seen_moves(memory, s, values)) == as_set(moves_from(pawns, s, values))
        best, seen = plan(pawns, s, g, values), search(SeenGraph(memory, values), s, g)
        assert (best is None) == (seen is None)
        assert best is None or best.steps == seen.steps


def test_the_memory_holds_only_what_the_panels_showed():
    rng = np.random.default_rng(2)
    pawns = rng.random((9, 9)) < 0.3
    memory = new_memory(9, 9)
    for pos in map(tuple, np.argwhere(~pawns)[:10]):
        state = batched.reset(
            pawns[None], np.array([pos]), np.array([pos]), np.zeros((1, 10), int), Rules()
        )
        remember(memory, pos, batched.symbols(state)[0])
    seen = memory != UNSEEN
    assert 0 < seen.sum() < pawns.size
    assert ((memory == BLOCKED) == pawns)[seen].all()


def test_on_every_split_it_moves_validly_and_never_slows_down(boards):
    rules, table = Rules(), action_table(Rules())
    policy = memory_oracle_policy(table, 0)
    for split, b in boards.items():
        first = evaluate(policy, b, None, rules, 0)
        again = evaluate(policy, b, None, rules, 0)  # a new episode starts with an empty memory
        assert first == again, split
        assert first["invalid"] == 0.0 and first["success"] >= 0.9, split
        assert first["speedup"] >= 0.0 and first["ratio"] >= 1.0, split
