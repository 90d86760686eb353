"""Options, their parsing with EOS, and Super Halma move validity on hand-made boards."""

import numpy as np
import pytest
from halma.rules import (
    EOS,
    PAWN,
    WALL,
    Rules,
    action_table,
    check_rules,
    enumerate_options,
    move_target,
    option_value,
    panel_symbols,
    permute_digits,
    visible_symbols,
)

from reprokit.errors import UserError

UP, RIGHT, DOWN, LEFT = range(4)


def board(rows: list[str]) -> np.ndarray:
    """'#' = pawn, '.' = empty."""
    return np.array([[c == "#" for c in r] for r in rows])


@pytest.mark.parametrize(
    ("tokens", "value"),
    [
        (("3",), 3),
        (("1", "+", "2"), 3),
        (("2", "+", EOS), None),  # ends on an operator
        (("2", EOS, "+"), 2),  # everything after EOS is padding
        ((EOS, "1", "1"), None),  # empty option
        (("1", "2"), None),  # two digits in a row
        (("+",), None),
        (("3", "x", "2"), 6),
        (("1", "+", "2", "x", "3"), 9),  # left to right, no precedence
    ],
)
def test_option_value(tokens, value):
    assert option_value(tokens) == value


def test_option_counts():
    every = Rules(well_formed_only=False)
    assert len(enumerate_options(every)) == 4 + 4**2 + 4**3  # 84: 336 actions with 4 directions
    assert action_table(every).n == 336
    table = action_table(Rules())
    assert table.n == 4 * 12  # 3 digits + 9 sums
    assert table.values() == [1, 2, 3, 4, 5, 6]
    assert (table.value > 0).all()
    assert table.index(RIGHT, 4) == 12 + 5  # right block; ("1", "+", "3") is the first 4


def test_unit_steps():
    b = board(["...", ".#.", "..."])
    assert move_target(b, (0, 0), RIGHT, 1) == (0, 1)
    assert move_target(b, (0, 1), DOWN, 1) is None  # pawn
    assert move_target(b, (0, 0), UP, 1) is None  # edge
    assert move_target(b, (0, 0), LEFT, 1) is None


def test_super_halma_jumps():
    b = board([".......", "...#...", ".......", "...#.#.", "......."])
    assert move_target(b, (1, 0), RIGHT, 6) == (1, 6)  # pawn 3 away, lands 6 away
    assert move_target(b, (1, 0), RIGHT, 4) is None  # not symmetric
    assert move_target(b, (1, 2), RIGHT, 2) == (1, 4)  # adjacent pawn: the classic jump
    assert move_target(b, (3, 0), RIGHT, 6) is None  # second pawn in the way
    assert move_target(b, (3, 2), RIGHT, 2) == (3, 4)
    assert move_target(b, (3, 4), RIGHT, 2) == (3, 6)  # and on over the next one
    assert move_target(b, (3, 2), RIGHT, 3) is None  # odd lengths > 1 are never afforded
    assert move_target(b, (3, 1), UP, 4) is None  # no pawn above
    assert move_target(b, (1, 4), LEFT, 2) == (1, 2)
    assert move_target(b, (1, 5), LEFT, 4) == (1, 1)
    assert move_target(b, (1, 6), LEFT, 6) == (1, 0)
    assert move_target(b, (0, 3), DOWN, 2) == (2, 3)
    assert move_target(b, (0, 3), DOWN, 6) is None  # the nearest pawn is 1 away, not 3
    assert move_target(b, (2, 3), DOWN, 2) == (4, 3)
    assert move_target(b, (3, 4), DOWN, 2) is None  # no pawn below
    assert move_target(board(["..#"]), (0, 1), RIGHT, 2) is None  # landing outside the board
    assert move_target(board([".##"]), (0, 0), RIGHT, 2) is None  # landing on a pawn


def test_panel_symbols():
    b = board(["....", "..#.", "...."])
    sym = panel_symbols(b, (1, 0), (0, 3))
    assert sym[:4].tolist() == [2, 2, 2, 1]  # up edge 2, right pawn 2, down edge 2, left edge 1
    assert sym[4:8].tolist() == [WALL, PAWN, WALL, WALL]
    assert sym[8:12].tolist() == [0, 4, 0, 0]  # beyond the pawn: the edge 4 cells away
    assert sym[12:].tolist() == [-1, 3]  # goal offset (dy, dx)


def test_visible_symbols_and_permuted_digits():
    sym = panel_symbols(board(["....", "..#.", "...."]), (1, 0), (0, 3))[None]
    hidden = visible_symbols(sym, Rules(show_landing=False, show_offset=False))[0]
    assert hidden[8:12].tolist() == [0] * 4 and hidden[12:].tolist() == [-1, 1]
    assert visible_symbols(sym, Rules(show_offset=False, show_goal=False))[0, 12:].tolist() == [
        0,
        0,
    ]
    perm = np.array([0, 5, 6, 7, 8, 9, 1, 2, 3, 4])
    moved = permute_digits(sym, perm)[0]
    assert moved[:4].tolist() == [6, 6, 6, 5] and moved[4:8].tolist() == sym[0, 4:8].tolist()
    assert moved[8:12].tolist() == [0, 8, 0, 0] and moved[12:].tolist() == [-5, 7]


def test_bad_rules_are_one_line_errors():
    for bad in [("1", "-"), ("1", "1"), ("+",)]:
        with pytest.raises(UserError, match="primitives"):
            check_rules(Rules(primitives=bad))
