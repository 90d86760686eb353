"""Attributed RPM grammar: attribute spaces, the four RAVEN rules, and the rule checker.

Our own Python-3 implementation (the RAVEN / I-RAVEN generators are GPL and not used).
A panel is described at the panel level, as in a single-component RAVEN configuration:

* ``position``: bitmask of occupied slots, slot s = bit s in row-major order (Center: always
  ``1``; 2x2 Grid, ``distribute_four``: ``1..15``; 3x3 Grid, ``distribute_nine``: ``1..511``),
* ``type`` in 0..4 (triangle, square, pentagon, hexagon, circle),
* ``size`` in 0..5 (scales 0.4..0.9), ``color`` in 0..9 (grey 255 -> 0),

with the same Type / Size / Color for every object of a panel (uniform panels).
Number = popcount(position). Rules act row-wise on a 3x3 matrix of values
(panels 1..9, row-major): Constant, Progression (step d), Arithmetic (sign +-1; for
Size and Number the level index obeys c3 = c1 +- (c2 + 1), the RAVEN convention),
Distribute_Three (three distinct values, each row a cyclic shift of the previous one;
direction +1 = left shift, -1 = right shift). On Position, Progression is a cyclic
shift of the occupied slots and Arithmetic is set union / difference. The slot geometry of a
configuration is its ``Layout`` (``LAYOUTS``); every Position/Number function takes its slot count.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

# Number of values per integer attribute (Number is stored as count - 1; its entry is the 2x2
# Grid's: a layout has ``Layout.n_slots`` Number values, 9 on the 3x3 Grid).
N_VALUES: dict[str, int] = {"type": 5, "size": 6, "color": 10, "number": 4}
# Arithmetic offset delta in c3 = c1 + c2 + delta (RAVEN: Size and Number levels use +1).
ARITH_DELTA: dict[str, int] = {"type": 0, "size": 1, "color": 0, "number": 1}
# Rules each attribute admits in the full grammar (RAVEN: no Arithmetic on Type).
FULL_RULES: dict[str, tuple[str, ...]] = {
    "type": ("constant", "progression", "distribute_three"),
    "size": ("constant", "progression", "arithmetic", "distribute_three"),
    "color": ("constant", "progression", "arithmetic", "distribute_three"),
    "number": ("progression", "arithmetic", "distribute_three"),
    "position": ("constant", "progression", "arithmetic", "distribute_three"),
}
RULE_PARAMS: dict[str, tuple[int, ...]] = {
    "constant": (0,),
    "progression": (-2, -1, 1, 2),
    "arithmetic": (1, -1),
    "distribute_three": (1, -1),
}


@dataclass(frozen=True)
class Layout:
    """Slot geometry of one RAVEN configuration: ``n_slots`` slots (Number 1..n_slots) and the
    cyclic Position-Progression shifts (RAVEN: +-1, +-2; our 2x2 Grid keeps the +-1 it had
    before the 3x3 Grid was added, so its generated data are unchanged)."""

    n_slots: int
    position_steps: tuple[int, ...]

    @property
    def masks(self) -> range:
        """Every non-empty occupancy mask."""
        return range(1, 1 << self.n_slots)


LAYOUTS: dict[str, Layout] = {
    "center": Layout(1, ()),
    "grid2x2": Layout(4, (-1, 1)),  # distribute_four
    "grid3x3": Layout(9, (-2, -1, 1, 2)),  # distribute_nine, the official default
}


@dataclass(frozen=True)
class Rule:
    """One rule on one attribute: ``name`` in FULL_RULES, ``param`` = step / sign / direction."""

    attr: str
    name: str
    param: int = 0


def alans_label(rule: Rule) -> int:
    """ALANS operator-family label (``generate_rule.py`` scheme).

    Type/Size/Color/Number: 0 Constant|Progression (unary), 1 Arithmetic + (ltr),
    2 Arithmetic - (rtl), 3 / 4 Distribute_Three left / right (ternary); 5 = inconsistent
    (never produced by our uniform-panel generator). Position (exist): 0 unary, 1 binary
    (union or difference), 2 / 3 Distribute_Three left / right.
    """
    if rule.name in ("constant", "progression"):
        return 0
    if rule.attr == "position":
        return 1 if rule.name == "arithmetic" else (2 if rule.param == 1 else 3)
    if rule.name == "arithmetic":
        return 1 if rule.param == 1 else 2
    return 3 if rule.param == 1 else 4


def popcount(m: int) -> int:
    return bin(m).count("1")


def rotate(m: int, d: int, n_slots: int) -> int:
    """Cyclic shift of an ``n_slots``-slot occupancy mask by ``d`` slots."""
    d %= n_slots
    return ((m << d) | (m >> (n_slots - d))) & ((1 << n_slots) - 1)


def _row_fits_int(rule: Rule, a: int, b: int, c: int) -> bool:
    if rule.name == "constant":
        return a == b == c
    if rule.name == "progression":
        return b == a + rule.param and c == b + rule.param
    if rule.name == "arithmetic":
        delta = ARITH_DELTA[rule.attr]
        if delta == 0 and b < 1:  # c2 = 0 would make the row look Constant-like
            return False
        return c == a + rule.param * (b + delta)
    raise ValueError(rule.name)


def _row_fits_mask(rule: Rule, a: int, b: int, c: int, n_slots: int) -> bool:
    if min(a, b, c) < 1:
        return False
    if rule.name == "constant":
        return a == b == c
    if rule.name == "progression":
        d = rule.param
        return b != a and b == rotate(a, d, n_slots) and c == rotate(b, d, n_slots)
    if rule.name == "arithmetic":
        if rule.param == 1:  # union, b must add something
            return c == a | b and c != a and c != b
        return c == a & ~b and (a & b) != 0 and b != a  # difference, must remove something
    raise ValueError(rule.name)


def matrix_fits(rule: Rule, m: list[int], n_slots: int | None = None) -> bool:
    """Whether the 9 values ``m`` (row-major) satisfy ``rule`` (the rule checker's core).

    ``n_slots`` (the layout's slot count) is needed for Position rules only.
    """
    rows = [m[0:3], m[3:6], m[6:9]]
    if rule.name == "distribute_three":
        if len(set(rows[0])) != 3 or (
            rule.attr == "position" and len({popcount(v) for v in rows[0]}) != 1
        ):
            return False
        for r in (1, 2):
            prev = rows[r - 1]
            shifted = prev[1:] + prev[:1] if rule.param == 1 else prev[-1:] + prev[:-1]
            if rows[r] != shifted:
                return False
        return True
    if rule.attr == "position":
        if n_slots is None:
            raise ValueError("matrix_fits: a Position rule needs n_slots")
        return all(_row_fits_mask(rule, *row, n_slots) for row in rows)
    return all(_row_fits_int(rule, *row) for row in rows)


def all_rules(attr: str, layout: Layout) -> list[Rule]:
    """Every (rule, parameter) of the full grammar for ``attr`` in ``layout``."""
    out = []
    for name in FULL_RULES[attr]:
        shift = attr == "position" and name == "progression"
        params = layout.position_steps if shift else RULE_PARAMS[name]
        out.extend(Rule(attr, name, p) for p in params)
    return out


def value_of(attr: str, panel: tuple[int, int, int, int]) -> int:
    """Value of ``attr`` in a panel tuple ``(position_mask, type, size, color)``."""
    if attr == "position":
        return panel[0]
    if attr == "number":
        return popcount(panel[0]) - 1
    return panel[("type", "size", "color").index(attr) + 1]


def consistent(attr: str, panels9: list[tuple[int, int, int, int]], layout: Layout) -> bool:
    """Is some rule of the full grammar consistent with all 9 panels on ``attr``?

    On the Number/Position slot, Number rules and Position rules are both tried.
    """
    attrs = ("number", "position") if attr in ("number", "position") else (attr,)
    for a in attrs:
        vals = [value_of(a, p) for p in panels9]
        if any(matrix_fits(r, vals, layout.n_slots) for r in all_rules(a, layout)):
            return True
    return False


def candidate_consistent(
    context: list[tuple[int, int, int, int]],
    cand: tuple[int, int, int, int],
    attrs: tuple[str, ...],
    layout: Layout,
) -> bool:
    """Does ``cand`` complete the 8 ``context`` panels consistently on every attribute?"""
    panels9 = [*context, cand]
    return all(consistent(a, panels9, layout) for a in attrs)


def check_unique(
    context: list[tuple[int, int, int, int]],
    candidates: list[tuple[int, int, int, int]],
    target: int,
    attrs: tuple[str, ...],
    layout: Layout,
) -> bool:
    """Uniqueness checker: the answer is the ONLY candidate consistent with the grammar's rules."""
    ok = [candidate_consistent(context, c, attrs, layout) for c in candidates]
    return ok[target] and sum(ok) == 1 and len(set(candidates)) == len(candidates)


def bisection_candidates(
    answer: tuple[int, int, int, int], alts: dict[int, int]
) -> list[tuple[int, int, int, int]]:
    """I-RAVEN attribute bisection tree: 3 levels, one alternative value per level.

    ``alts`` maps 3 tuple indices (0 position, 1 type, 2 size, 3 color) to their alternative
    value; the 8 leaves are every {original, alternative} combination, so each value of each
    modified attribute appears in exactly half of the candidates (no "mode" shortcut).
    """
    idx = sorted(alts)
    out = []
    for choice in product((False, True), repeat=len(idx)):
        p = list(answer)
        for i, use_alt in zip(idx, choice, strict=True):
            if use_alt:
                p[i] = alts[i]
        out.append(tuple(p))
    return out
