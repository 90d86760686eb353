"""Each split differs from iid in exactly its intended factor; bad layouts fail in one line."""

import numpy as np
import pytest
from halma.oracle import plan
from halma.panel import digit_pool
from halma.rules import Rules, action_table
from halma.splits import (
    Layout,
    check_layout,
    classify,
    digit_source,
    generate,
    generate_all,
    held_out_concepts,
)

from reprokit.errors import UserError

RULES, LAYOUT = Rules(), Layout()
VALUES = action_table(RULES).values()
HELD = held_out_concepts(LAYOUT)


def facts(b):
    """Per board: (oracle steps, steps without held-out concepts, fewest jumps without them,
    fewest jumps with every concept)."""
    out = []
    for pawns, s, g in zip(b["pawns"], b["start"], b["goal"]):
        full = plan(pawns, tuple(s), tuple(g), VALUES)
        restricted = plan(pawns, tuple(s), tuple(g), VALUES, excluded=HELD)
        out.append(
            (
                full.steps,
                restricted and restricted.steps,
                restricted and restricted.jumps,
                full.jumps,
            )
        )
    return out


def test_every_board_is_solvable_within_a_trial(boards):
    for b in boards.values():
        assert (b["oracle_steps"] >= 1).all() and (b["oracle_steps"] <= RULES.trial_steps).all()


def test_iid_boards_need_one_trained_jump_and_perceptual_reuses_them(boards):
    for steps, r_steps, r_jumps, _ in facts(boards["iid"]):
        assert r_steps == steps  # no held-out concept needed
        assert LAYOUT.min_jumps <= r_jumps <= LAYOUT.train_max_jumps
    assert all((boards["iid"][k] == boards["perceptual"][k]).all() for k in boards["iid"])


def test_conceptual_boards_need_a_held_out_concept_and_nothing_else(boards):
    for steps, r_steps, _, jumps in facts(boards["conceptual"]):
        # every plan without a held-out concept is at least conceptual_saving steps longer
        assert r_steps is None or r_steps >= steps + LAYOUT.conceptual_saving
        assert jumps <= LAYOUT.train_max_jumps  # composition depth in the training range
    for k, d in HELD:  # each part of a held-out concept is trained in another combination
        assert any(k2 == k and (k2, d2) not in HELD for k2 in (1, 2, 3) for d2 in range(4))
        assert any(d2 == d and (k2, d2) not in HELD for k2 in (1, 2, 3) for d2 in range(4))


def test_algorithmic_boards_need_longer_compositions_only(boards):
    for steps, r_steps, r_jumps, _ in facts(boards["algorithmic"]):
        assert r_steps == steps  # no held-out concept needed
        assert r_jumps >= LAYOUT.algorithmic_min_jumps > LAYOUT.train_max_jumps


def test_no_board_is_shared_between_splits(boards):
    keys = [
        {(p.tobytes(), tuple(s), tuple(g)) for p, s, g in zip(b["pawns"], b["start"], b["goal"])}
        for split, b in boards.items()
        if split != "perceptual"  # the iid boards with other digit images
    ]
    assert sum(map(len, keys)) == len(set().union(*keys)) == 12 * 3


def test_only_the_perceptual_split_changes_the_digit_images():
    sources = {s: digit_source(s, LAYOUT) for s in ("iid", "conceptual", "algorithmic")}
    assert set(sources.values()) == {"train"} and digit_source("perceptual", LAYOUT) == "test"
    train, test = digit_pool("train").images, digit_pool("test").images
    flat_train = {img.tobytes() for img in train.reshape(-1, 8, 8)}
    assert not any(img.tobytes() in flat_train for img in test.reshape(-1, 8, 8))


def test_classify_rejects_a_board_the_oracle_cannot_solve():
    blocked = np.ones((3, 3), bool)
    blocked[0, 0] = blocked[2, 2] = False
    assert classify(blocked, (0, 0), (2, 2), VALUES, HELD, RULES, LAYOUT) == (None, -1)
    far = np.zeros((9, 9), bool)  # solvable by unit steps only: no jump needed, so not iid
    assert classify(far, (0, 0), (8, 8), VALUES, HELD, RULES, LAYOUT) == (None, 16)
    one_jump = np.zeros((1, 9), bool)
    one_jump[0, 3] = True  # start (0, 0), pawn 3 right, goal 6 right: the jump over 3 cells
    assert classify(one_jump, (0, 0), (0, 6), VALUES, HELD, RULES, LAYOUT) == ("iid", 1)
    left = one_jump[:, ::-1]  # the same jump to the left is held out: conceptual
    assert classify(left, (0, 8), (0, 2), VALUES, HELD, RULES, LAYOUT) == ("conceptual", 1)


def test_generate_is_cached_and_deterministic():
    a = generate("iid", 5, 7, RULES, LAYOUT)
    b = generate("iid", 5, 7, RULES, LAYOUT)
    assert all((a[k] == b[k]).all() for k in a)


@pytest.mark.parametrize(
    ("layout", "match"),
    [
        (Layout(held_out=("4:up",)), "no option expresses"),
        (Layout(held_out=("2:north",)), "not 'k:direction'"),
        (Layout(algorithmic_min_jumps=1), "must exceed"),
        (Layout(min_jumps=2), "must not exceed"),
    ],
)
def test_bad_layouts_are_one_line_errors(layout, match):
    with pytest.raises(UserError, match=match):
        check_layout(layout, RULES)


def test_a_split_that_cannot_be_filled_says_so():
    with pytest.raises(UserError, match="only 0 of 3 boards"):
        generate("conceptual", 3, 0, RULES, Layout(max_tries=5))


def test_generate_all_draws_disjoint_splits_from_one_stream():
    both = generate_all({"iid": 4, "algorithmic": 3}, 1, RULES, LAYOUT)
    assert len(both["iid"]["pawns"]) == 4 and len(both["algorithmic"]["pawns"]) == 3
    for split, b in both.items():
        for pawns, s, g in zip(b["pawns"], b["start"], b["goal"]):
            assert classify(pawns, tuple(s), tuple(g), VALUES, HELD, RULES, LAYOUT)[0] == split
