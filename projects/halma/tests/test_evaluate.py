"""Reference policies, the steps / oracle ratio, relabelled digits, the training mask."""

import numpy as np
from halma.evaluate import (
    digit_permutation,
    evaluate,
    greedy_policy,
    oracle_policy,
    random_policy,
    unit_only_policy,
)
from halma.ppo import held_out_actions, potential
from halma.rules import Rules, action_table
from halma.splits import Layout

RULES, TABLE = Rules(), action_table(Rules())


def test_references_order_as_expected_on_iid_boards(boards):
    b = boards["iid"]
    oracle = evaluate(oracle_policy(TABLE), b, None, RULES, 0)
    assert oracle["success"] == 1.0 and oracle["ratio"] == 1.0 and oracle["invalid"] == 0.0
    greedy = evaluate(greedy_policy(TABLE, 0), b, None, RULES, 0)["success"]
    unit = evaluate(unit_only_policy(TABLE), b, None, RULES, 0)["success"]
    chance = evaluate(random_policy(TABLE, 0), b, None, RULES, 0)["success"]
    assert unit == 0.0 and greedy > max(chance, 0.5)


def test_relabelled_digits_move_every_digit_and_hurt_the_greedy_reader(boards):
    perm = digit_permutation(3)
    assert perm[0] == 0 and sorted(perm) == list(range(10))
    assert (perm[1:] != np.arange(1, 10)).all()
    b = boards["iid"]
    # the greedy heuristic reads the true board, so relabelling leaves it unchanged: the
    # permutation acts on what a policy observes only
    same = evaluate(greedy_policy(TABLE, 0), b, None, RULES, 0, perm)
    assert same == evaluate(greedy_policy(TABLE, 0), b, None, RULES, 0)


def test_the_training_mask_covers_exactly_the_held_out_jumps():
    mask = held_out_actions(TABLE, Layout())  # held out: 2:up (length 4), 3:left (length 6)
    hits = {(int(TABLE.direction[a]), int(TABLE.value[a])) for a in np.flatnonzero(mask)}
    assert hits == {(0, 4), (3, 6)}


def test_potential_is_minus_oracle_distance_and_bounded():
    pawns = np.array([[False, True, True, False, False]])  # two pawns in a row cannot be jumped
    phi = potential(pawns, (0, 4), TABLE.values(), frozenset())
    assert phi[0, 4] == 0 and phi[0, 3] == -1
    assert phi[0, 0] == -2  # no path: one step more than the farthest reachable cell
