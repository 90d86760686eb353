"""Connect Four on a bitboard and the depth-limited negamax search that plays "optimally".

ESPER's opponent and strong data policy play the moves of Pascal Pons' perfect solver; here a
depth-limited negamax alpha-beta search (:func:`best_move`) stands in for it (a documented
deviation): exact win/loss scores (faster wins and slower losses preferred), a window-count
heuristic at the depth limit, centre-first move ordering (3, 2, 4, 1, 5, 0, 6) and deterministic
tie-breaking (first best in that order), so the choice is a function of the position like a
solver's. Bitboard layout as in Pons' solver: 7 bits per column, bit ``7 * col + row``, row 0 at
the bottom; ``cur`` = stones of the side to move, ``mask`` = all stones.
"""

from __future__ import annotations

ROWS, COLS = 6, 7
ORDER = (3, 2, 4, 1, 5, 0, 6)  # centre-first move ordering = tie-breaking order
_H1 = ROWS + 1
_BOTTOM = [1 << (_H1 * c) for c in range(COLS)]
_COLUMN = [((1 << ROWS) - 1) << (_H1 * c) for c in range(COLS)]
_BOTTOM_ALL = sum(_BOTTOM)
_BOARD = sum(_COLUMN)
_WIN = 1_000_000  # exact result scores: ±(_WIN - moves at the end of the game)
_INF = 10 * _WIN
_CENTRE = _COLUMN[3]
_WEIGHT = (0, 0, 2, 5)  # heuristic weight of a window by its number of own pieces


def _windows() -> list[int]:
    """Bit masks of the 69 lines of four cells."""
    out = []
    for c in range(COLS):
        for r in range(ROWS):
            for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
                cells = [(c + k * dc, r + k * dr) for k in range(4)]
                if all(0 <= cc < COLS and 0 <= rr < ROWS for cc, rr in cells):
                    out.append(sum(1 << (_H1 * cc + rr) for cc, rr in cells))
    return out


_WINDOWS = _windows()


def _aligned(pos: int) -> bool:
    """Four in a row in bitboard ``pos`` (horizontal, two diagonals, vertical)."""
    for s in (_H1, ROWS, _H1 + 1, 1):
        m = pos & (pos >> s)
        if m & (m >> (2 * s)):
            return True
    return False


def _winning_cells(pos: int, mask: int) -> int:
    """Empty cells that would complete four for ``pos`` (Pons' winning-position bit trick)."""
    r = (pos << 1) & (pos << 2) & (pos << 3)  # vertical
    for s in (_H1, ROWS, _H1 + 1):
        p = (pos << s) & (pos << 2 * s)
        r |= p & (pos << 3 * s)
        r |= p & (pos >> s)
        p = (pos >> s) & (pos >> 2 * s)
        r |= p & (pos << s)
        r |= p & (pos >> 3 * s)
    return r & (_BOARD ^ mask)


def _heuristic(cur: int, opp: int) -> int:
    """Side to move's score: Σ weight(#own) over lines free of opponent pieces, minus theirs."""
    s = 3 * ((cur & _CENTRE).bit_count() - (opp & _CENTRE).bit_count())
    for w in _WINDOWS:
        a, b = w & cur, w & opp
        if a and not b:
            s += _WEIGHT[a.bit_count()]
        elif b and not a:
            s -= _WEIGHT[b.bit_count()]
    return s


def _negamax(
    cur: int, mask: int, moves: int, depth: int, alpha: int, beta: int, tt: dict[int, tuple]
) -> int:
    """Value for the side to move (stones ``cur``): fail-hard alpha-beta with a bound table.

    ``tt`` maps a position to (lower, upper) bounds of its value; within one root search the
    remaining depth is a function of the position, so entries are never mixed across depths.
    """
    if moves == ROWS * COLS:
        return 0
    possible = (mask + _BOTTOM_ALL) & _BOARD
    if _winning_cells(cur, mask) & possible:
        return _WIN - (moves + 1)
    if depth == 0:
        return _heuristic(cur, cur ^ mask)
    key = cur + mask  # unique per position (Pons' key)
    lo, hi = tt.get(key, (-_INF, _INF))
    if lo >= beta:
        return lo
    if hi <= alpha:
        return hi
    alpha0 = alpha = max(alpha, lo)
    beta = min(beta, hi)
    v = _search_children(cur, mask, moves, depth, alpha, beta, tt)
    if v <= alpha0:
        tt[key] = (lo, v)
    elif v >= beta:
        tt[key] = (v, hi)
    else:
        tt[key] = (v, v)
    return v


def _search_children(
    cur: int, mask: int, moves: int, depth: int, alpha: int, beta: int, tt: dict[int, tuple]
) -> int:
    """Max over the non-losing children (forced block first; never under an opponent threat)."""
    possible = (mask + _BOTTOM_ALL) & _BOARD
    opp_wins = _winning_cells(cur ^ mask, mask)
    forced = possible & opp_wins
    if forced:
        if forced & (forced - 1):  # two threats: only one can be blocked
            return -(_WIN - (moves + 2))
        possible = forced
    possible &= ~(opp_wins >> 1)  # never play right below an opponent's winning cell
    if not possible:
        return -(_WIN - (moves + 2))
    for c in ORDER:
        move = possible & _COLUMN[c]
        if move:
            v = -_negamax(cur ^ mask, mask | move, moves + 1, depth - 1, -beta, -alpha, tt)
            if v >= beta:
                return v
            if v > alpha:
                alpha = v
    return alpha


class Board:
    """Bitboard position: ``cur`` = stones of the side to move, ``mask`` = all stones."""

    __slots__ = ("cur", "mask", "moves")

    def __init__(self, cur: int = 0, mask: int = 0, moves: int = 0) -> None:
        self.cur, self.mask, self.moves = cur, mask, moves

    @classmethod
    def from_columns(cls, cols: list[int]) -> Board:
        b = cls()
        for c in cols:
            b.play(c)
        return b

    def copy(self) -> Board:
        return Board(self.cur, self.mask, self.moves)

    def can_play(self, col: int) -> bool:
        return 0 <= col < COLS and not self.mask & (_BOTTOM[col] << (ROWS - 1))

    def legal(self) -> list[int]:
        return [c for c in range(COLS) if self.can_play(c)]

    def play(self, col: int) -> None:
        """Drop a stone of the side to move into ``col`` (must be legal)."""
        if not self.can_play(col):
            raise ValueError(f"column {col} is not playable (full or out of 0..6)")
        self.cur ^= self.mask
        self.mask |= self.mask + _BOTTOM[col]
        self.moves += 1

    def stones(self, player: int) -> int:
        """Bitboard of player 0 (first mover) or player 1."""
        return self.cur if self.moves % 2 == player else self.cur ^ self.mask

    def winner(self) -> int | None:
        """0 or 1 if that player has four in a row, else None."""
        for p in (0, 1):
            if _aligned(self.stones(p)):
                return p
        return None

    def is_draw(self) -> bool:
        return self.moves == ROWS * COLS and self.winner() is None


def best_move(board: Board, depth: int) -> int:
    """Deterministic negamax choice at ``depth`` plies (first best column in ``ORDER``)."""
    if depth < 1:
        raise ValueError(f"search depth must be >= 1, got {depth}")
    legal = [c for c in ORDER if board.can_play(c)]
    if not legal or board.winner() is not None:
        raise ValueError("best_move called on a finished game")
    cur, mask, moves = board.cur, board.mask, board.moves
    wins = _winning_cells(cur, mask)
    for c in legal:
        if wins & _COLUMN[c] & (mask + _BOTTOM[c]):
            return c
    best, best_v, tt = legal[0], -_INF, {}
    for c in legal:
        move = (mask + _BOTTOM[c]) & _COLUMN[c]
        v = -_negamax(cur ^ mask, mask | move, moves + 1, depth - 1, -_INF, -best_v, tt)
        if v > best_v:
            best, best_v = c, v
    return best
