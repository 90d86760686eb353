"""RPM problem sampler: rules -> 3x3 value matrices -> panels -> RAVEN / I-RAVEN answer sets.

A ``GenSpec`` says which rules (and Progression steps) each attribute may use, the value caps
for the context/answer and for the distractors, and an optional problem-level predicate (used
by the systematic-generalisation splits, ``splits.py``). Every emitted problem passes
``grammar.check_unique``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .grammar import (
    ARITH_DELTA,
    LAYOUTS,
    N_VALUES,
    RULE_PARAMS,
    Layout,
    Rule,
    alans_label,
    bisection_candidates,
    candidate_consistent,
    check_unique,
    matrix_fits,
    popcount,
    rotate,
)

CONFIGS = tuple(LAYOUTS)  # center, grid2x2 (distribute_four), grid3x3 (distribute_nine)
TSC = ("type", "size", "color")
Panel = tuple[int, int, int, int]  # (position mask, type, size, color)


@dataclass(frozen=True)
class AttrSpace:
    """Allowed rules of one attribute, its value cap (values < vmax) and Progression steps."""

    rules: tuple[str, ...]
    vmax: int
    steps: tuple[int, ...] = (-2, -1, 1, 2)


@dataclass
class GenSpec:
    """What a split part may contain. ``predicate(rules, values) -> bool`` filters problems."""

    config: str
    spaces: dict[str, AttrSpace]
    cand_vmax: dict[str, int] = field(default_factory=dict)  # cap on distractor values
    predicate: Callable[[dict[str, Rule], dict[str, list[int]]], bool] | None = None


def default_spaces(config: str) -> dict[str, AttrSpace]:
    """The full grammar (the IID distribution without any held-out part)."""
    from .grammar import FULL_RULES

    sp = {a: AttrSpace(FULL_RULES[a], N_VALUES[a]) for a in TSC}
    n_slots = LAYOUTS[config].n_slots
    if n_slots > 1:  # Grid: one Number/Position rule; Number takes the values 1..n_slots
        sp["numpos"] = AttrSpace(
            ("constant", "progression", "arithmetic", "distribute_three"), n_slots
        )
    return sp


def _sample_int_matrix(rule: Rule, vmax: int, rng: np.random.Generator) -> list[int] | None:
    """Rows of values < vmax obeying ``rule`` (each row starts afresh, as in RAVEN)."""
    if rule.name == "distribute_three":
        if vmax < 3:
            return None
        row = [int(v) for v in rng.choice(vmax, 3, replace=False)]
        rows = [row]
        for _ in range(2):
            p = rows[-1]
            rows.append(p[1:] + p[:1] if rule.param == 1 else p[-1:] + p[:-1])
        return rows[0] + rows[1] + rows[2]
    out = []
    for _ in range(3):
        for _try in range(50):
            a, b = int(rng.integers(vmax)), int(rng.integers(vmax))
            if rule.name == "constant":
                row = [a, a, a]
            elif rule.name == "progression":
                row = [a, a + rule.param, a + 2 * rule.param]
            else:
                row = [a, b, a + rule.param * (b + ARITH_DELTA[rule.attr])]
            if all(0 <= v < vmax for v in row) and matrix_fits(rule, row * 3):
                out += row
                break
        else:
            return None
    return out


def _random_mask(count: int, n_slots: int, rng: np.random.Generator) -> int:
    return int(sum(1 << int(s) for s in rng.choice(n_slots, count, replace=False)))


def _sample_position_matrix(
    rule: Rule, layout: Layout, rng: np.random.Generator
) -> list[int] | None:
    """Rows of occupancy masks obeying the Position ``rule`` (cyclic shift, union/difference,
    Distribute_Three over masks with the same number of objects)."""
    n, top = layout.n_slots, 1 << layout.n_slots
    if rule.name == "distribute_three":
        k = int(rng.integers(1, n))
        masks = [m for m in layout.masks if popcount(m) == k]
        row = [int(v) for v in rng.choice(masks, 3, replace=False)]
        r2 = row[1:] + row[:1] if rule.param == 1 else row[-1:] + row[:-1]
        r3 = r2[1:] + r2[:1] if rule.param == 1 else r2[-1:] + r2[:-1]
        return row + r2 + r3
    out = []
    for _ in range(3):
        for _try in range(100):
            a, b = int(rng.integers(1, top)), int(rng.integers(1, top))
            if rule.name == "constant":
                row = [a, a, a]
            elif rule.name == "progression":
                row = [a, rotate(a, rule.param, n), rotate(a, 2 * rule.param, n)]
            else:
                row = [a, b, a | b if rule.param == 1 else a & ~b]
            if matrix_fits(rule, row * 3, n):
                out += row
                break
        else:
            return None
    return out


def _sample_rule(attr: str, space: AttrSpace, rng: np.random.Generator) -> Rule:
    name = str(rng.choice(space.rules))
    if name == "progression":
        return Rule(attr, name, int(rng.choice(space.steps)))
    return Rule(attr, name, int(rng.choice(RULE_PARAMS[name])))


def _alt_value(
    i: int,
    context: list[Panel],
    answer: Panel,
    vmax: int,
    attrs: tuple[str, ...],
    layout: Layout,
    rng: np.random.Generator,
) -> int | None:
    """An alternative value for tuple slot ``i`` that makes the panel inconsistent."""
    if i == 0:
        pool = [m for m in layout.masks if m != answer[0]]
    else:
        pool = [v for v in range(vmax) if v != answer[i]]
    rng.shuffle(pool)
    for v in pool:
        p = list(answer)
        p[i] = int(v)
        if not candidate_consistent(context, tuple(p), attrs, layout):
            return int(v)
    return None


def sample_problem(spec: GenSpec, rng: np.random.Generator, iraven: bool = True) -> dict | None:
    """One problem, or None when the sampled rules gave no valid (unique-answer) problem."""
    layout = LAYOUTS[spec.config]
    grid = layout.n_slots > 1
    rules: dict[str, Rule] = {}
    values: dict[str, list[int]] = {}
    for a in TSC:
        rules[a] = _sample_rule(a, spec.spaces[a], rng)
        m = _sample_int_matrix(rules[a], spec.spaces[a].vmax, rng)
        if m is None:
            return None
        values[a] = m
    if grid:
        sp = spec.spaces["numpos"]
        name = str(rng.choice(sp.rules))
        on_pos = name == "constant" or rng.random() < 0.5
        if on_pos:  # Position shifts limited by the space's steps (productivity: +-1)
            shifts = tuple(d for d in layout.position_steps if d in sp.steps)
            steps = shifts if name == "progression" else RULE_PARAMS[name]
            rules["numpos"] = Rule("position", name, int(rng.choice(steps)))
            masks = _sample_position_matrix(rules["numpos"], layout, rng)
        else:
            steps = sp.steps if name == "progression" else RULE_PARAMS[name]
            rules["numpos"] = Rule("number", name, int(rng.choice(steps)))
            counts = _sample_int_matrix(rules["numpos"], sp.vmax, rng)
            masks = (
                None
                if counts is None
                else [_random_mask(c + 1, layout.n_slots, rng) for c in counts]
            )
        if masks is None:
            return None
        values["numpos"] = masks
    else:
        values["numpos"] = [1] * 9
    if spec.predicate is not None and not spec.predicate(rules, values):
        return None
    panels: list[Panel] = [
        (values["numpos"][k], values["type"][k], values["size"][k], values["color"][k])
        for k in range(9)
    ]
    context, answer = panels[:8], panels[8]
    attrs = (("number",) if grid else ()) + TSC
    cmax = {a: spec.cand_vmax.get(a, N_VALUES[a]) for a in TSC}
    modifiable = ([0] if grid else []) + [1, 2, 3]
    caps = {1: cmax["type"], 2: cmax["size"], 3: cmax["color"], 0: 1 << layout.n_slots}
    if iraven:  # attribute bisection tree over 3 attributes
        chosen = sorted(int(i) for i in rng.choice(modifiable, 3, replace=False))
        alts = {}
        for i in chosen:
            v = _alt_value(i, context, answer, caps[i], attrs, layout, rng)
            if v is None:
                return None
            alts[i] = v
        cands = bisection_candidates(answer, alts)
    else:  # RAVEN: each distractor = answer with one attribute resampled
        cands = [answer]
        for _ in range(100):
            if len(cands) == 8:
                break
            i = int(rng.choice(modifiable))
            v = _alt_value(i, context, answer, caps[i], attrs, layout, rng)
            p = list(answer)
            if v is not None:
                p[i] = v
                if tuple(p) not in cands:
                    cands.append(tuple(p))
        if len(cands) < 8:
            return None
    order = rng.permutation(8)
    cands = [cands[j] for j in order]
    target = int(np.argmin(order))  # where the original answer (index 0 / all-original) went
    if not check_unique(context, cands, target, attrs, layout):
        return None
    # nuisance rotation per slot; at least 4 columns (the Center / 2x2 Grid data format)
    angles = rng.integers(0, 8, size=(16, max(layout.n_slots, 4)))
    labels = [alans_label(rules["numpos"]) if grid else 0] + [alans_label(rules[a]) for a in TSC]
    return {
        "panels": np.array(context + cands, dtype=np.int64),  # (16, 4) mask,type,size,color
        "angles": angles.astype(np.int64),  # (16, max(S, 4)) nuisance rotation index per slot
        "target": target,
        "labels": np.array(labels, dtype=np.int64),  # ALANS op labels: numpos, type, size, color
        "numpos_on_position": int(grid and rules["numpos"].attr == "position"),
        "rules": rules,
    }


def generate(spec: GenSpec, n: int, seed: int, iraven: bool = True) -> dict[str, np.ndarray]:
    """``n`` problems as stacked arrays (rejection-sampled until each is valid)."""
    rng = np.random.default_rng(seed)
    out: list[dict] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 200 * n + 1000:
            raise RuntimeError(f"generator: spec for {spec.config} accepts too few problems")
        p = sample_problem(spec, rng, iraven)
        if p is not None:
            out.append(p)
    rule_names = ("constant", "progression", "arithmetic", "distribute_three")
    return {
        "panels": np.stack([p["panels"] for p in out]),
        "angles": np.stack([p["angles"] for p in out]),
        "target": np.array([p["target"] for p in out], dtype=np.int64),
        "labels": np.stack([p["labels"] for p in out]),
        "numpos_on_position": np.array([p["numpos_on_position"] for p in out], dtype=np.int64),
        # rule id per attribute (numpos, type, size, color) and its parameter, for analysis
        "rule_ids": np.array(
            [
                [
                    rule_names.index(p["rules"][a].name) if a in p["rules"] else 0
                    for a in ("numpos", *TSC)
                ]
                for p in out
            ],
            dtype=np.int64,
        ),
        "rule_params": np.array(
            [
                [p["rules"][a].param if a in p["rules"] else 0 for a in ("numpos", *TSC)]
                for p in out
            ],
            dtype=np.int64,
        ),
    }
