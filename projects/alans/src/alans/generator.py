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
    N_SLOTS,
    N_VALUES,
    POSITION_STEPS,
    RULE_PARAMS,
    Rule,
    alans_label,
    bisection_candidates,
    candidate_consistent,
    check_unique,
    matrix_fits,
    popcount,
    rotate,
)

CONFIGS = ("center", "grid2x2")
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
    if config == "grid2x2":
        sp["numpos"] = AttrSpace(
            ("constant", "progression", "arithmetic", "distribute_three"), N_VALUES["number"]
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


def _random_mask(count: int, rng: np.random.Generator) -> int:
    return int(sum(1 << int(s) for s in rng.choice(N_SLOTS, count, replace=False)))


def _sample_position_matrix(rule: Rule, rng: np.random.Generator) -> list[int] | None:
    if rule.name == "distribute_three":
        k = int(rng.integers(1, N_SLOTS))
        masks = [m for m in range(1, 16) if popcount(m) == k]
        row = [int(v) for v in rng.choice(masks, 3, replace=False)]
        r2 = row[1:] + row[:1] if rule.param == 1 else row[-1:] + row[:-1]
        r3 = r2[1:] + r2[:1] if rule.param == 1 else r2[-1:] + r2[:-1]
        return row + r2 + r3
    out = []
    for _ in range(3):
        for _try in range(100):
            a, b = int(rng.integers(1, 16)), int(rng.integers(1, 16))
            if rule.name == "constant":
                row = [a, a, a]
            elif rule.name == "progression":
                row = [a, rotate(a, rule.param), rotate(a, 2 * rule.param)]
            else:
                row = [a, b, a | b if rule.param == 1 else a & ~b]
            if matrix_fits(rule, row * 3):
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
    i: int, context: list[Panel], answer: Panel, vmax: int, attrs: tuple[str, ...], rng
) -> int | None:
    """An alternative value for tuple slot ``i`` that makes the panel inconsistent."""
    if i == 0:
        pool = [m for m in range(1, 16) if m != answer[0]]
    else:
        pool = [v for v in range(vmax) if v != answer[i]]
    rng.shuffle(pool)
    for v in pool:
        p = list(answer)
        p[i] = int(v)
        if not candidate_consistent(context, tuple(p), attrs):
            return int(v)
    return None


def sample_problem(spec: GenSpec, rng: np.random.Generator, iraven: bool = True) -> dict | None:
    """One problem, or None when the sampled rules gave no valid (unique-answer) problem."""
    grid = spec.config == "grid2x2"
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
        if on_pos:
            steps = POSITION_STEPS if name == "progression" else RULE_PARAMS[name]
            rules["numpos"] = Rule("position", name, int(rng.choice(steps)))
            masks = _sample_position_matrix(rules["numpos"], rng)
        else:
            steps = sp.steps if name == "progression" else RULE_PARAMS[name]
            rules["numpos"] = Rule("number", name, int(rng.choice(steps)))
            counts = _sample_int_matrix(rules["numpos"], sp.vmax, rng)
            masks = None if counts is None else [_random_mask(c + 1, rng) for c in counts]
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
    caps = {1: cmax["type"], 2: cmax["size"], 3: cmax["color"], 0: 16}
    if iraven:  # attribute bisection tree over 3 attributes
        chosen = sorted(int(i) for i in rng.choice(modifiable, 3, replace=False))
        alts = {}
        for i in chosen:
            v = _alt_value(i, context, answer, caps[i], attrs, rng)
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
            v = _alt_value(i, context, answer, caps[i], attrs, rng)
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
    if not check_unique(context, cands, target, attrs):
        return None
    angles = rng.integers(0, 8, size=(16, N_SLOTS))
    labels = [alans_label(rules["numpos"]) if grid else 0] + [alans_label(rules[a]) for a in TSC]
    return {
        "panels": np.array(context + cands, dtype=np.int64),  # (16, 4) mask,type,size,color
        "angles": angles.astype(np.int64),  # (16, 4) nuisance rotation index per slot
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
