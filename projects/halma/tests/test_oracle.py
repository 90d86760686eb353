"""The oracle planner against an exhaustive search over the batched env's own move graph."""

import numpy as np
from halma import batched
from halma.env import HalmaEnv
from halma.oracle import moves_from, oracle_action, plan
from halma.rules import Rules, action_table, move_target


def move_graph(pawns: np.ndarray, rules: Rules) -> np.ndarray:
    """(C, C) adjacency over cells, built by stepping every action of the batched env from
    every cell (an implementation independent of the oracle's ``move_target``)."""
    table = action_table(rules)
    h, w = pawns.shape
    cells = np.argwhere(np.ones((h, w), bool))
    n = len(cells) * table.n
    pos = np.repeat(cells, table.n, axis=0)
    state = batched.reset(
        np.repeat(pawns[None], n, 0), pos, np.full((n, 2), -1), np.zeros((n, 10), int), rules
    )
    new, _, info = batched.step(state, np.tile(np.arange(table.n), len(cells)), table, rules)
    adj = np.zeros((h * w, h * w), bool)
    src, dst = pos[:, 0] * w + pos[:, 1], new.pos[:, 0] * w + new.pos[:, 1]
    adj[src[info["valid"]], dst[info["valid"]]] = True
    return adj


def shortest(adj: np.ndarray, a: int, b: int) -> int | None:
    """Steps from a to b by repeated frontier expansion of the boolean adjacency."""
    reach, frontier, steps = np.zeros(len(adj), bool), np.zeros(len(adj), bool), 0
    reach[a] = frontier[a] = True
    while not reach[b]:
        frontier = adj[frontier].any(0) & ~reach
        if not frontier.any():
            return None
        reach |= frontier
        steps += 1
    return steps


def test_oracle_is_minimal_on_every_split(boards):
    rules = Rules()
    values = action_table(rules).values()
    for split, b in boards.items():
        for pawns, s, g, steps in zip(b["pawns"], b["start"], b["goal"], b["oracle_steps"]):
            best = plan(pawns, tuple(s), tuple(g), values)
            w = pawns.shape[1]
            assert (
                best.steps
                == steps
                == shortest(move_graph(pawns, rules), s[0] * w + s[1], g[0] * w + g[1])
            ), split


def test_oracle_on_random_boards_including_unsolvable():
    rules, rng = Rules(height=6, width=6), np.random.default_rng(3)
    values, solved, unsolvable = action_table(rules).values(), 0, 0
    for _ in range(20):
        pawns = rng.random((6, 6)) < rng.uniform(0.3, 0.8)
        free = np.argwhere(~pawns)
        s, g = (tuple(int(v) for v in c) for c in free[rng.choice(len(free), 2, replace=False)])
        best = plan(pawns, s, g, values)
        expect = shortest(move_graph(pawns, rules), s[0] * 6 + s[1], g[0] * 6 + g[1])
        assert (None if best is None else best.steps) == expect
        solved, unsolvable = solved + (best is not None), unsolvable + (best is None)
    assert solved and unsolvable


def test_oracle_policy_solves_every_trial_in_oracle_steps(boards):
    env = HalmaEnv(observation="symbols")
    for b in boards.values():
        for pawns, s, g, steps in zip(b["pawns"], b["start"], b["goal"], b["oracle_steps"]):
            env.reset(options={"board": (pawns, s, g)})
            done = False
            while not done:
                _, _, done, _, info = env.step(
                    oracle_action(env.pawns, env.pos, env.goal, env.table)
                )
                assert info["valid"]
            assert info["trial_success"] == [True] * 3 and info["trial_steps"] == [steps] * 3


def test_unit_steps_alone_fail_every_trial_limit(boards):
    for b in boards.values():
        for pawns, s, g, limit in zip(b["pawns"], b["start"], b["goal"], b["trial_limit"]):
            unit = plan(pawns, tuple(s), tuple(g), [1])
            assert unit is None or unit.steps > limit


def test_the_oracles_move_scan_equals_the_literal_rule():
    rules, rng = Rules(), np.random.default_rng(5)
    values = action_table(rules).values()
    for _ in range(100):
        pawns = rng.random((9, 9)) < rng.uniform(0.1, 0.6)
        pos = tuple(int(v) for v in rng.integers(0, 9, 2))
        fast = {(m.direction, m.value, m.target) for m in moves_from(pawns, pos, values)}
        literal = {
            (d, n, move_target(pawns, pos, d, n))
            for d in range(4)
            for n in values
            if move_target(pawns, pos, d, n) is not None
        }
        assert fast == literal
