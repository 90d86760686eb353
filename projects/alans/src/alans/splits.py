"""The three systematic-generalisation splits (our own definitions; the paper's were not readable).

Each split has a training distribution (used for train / val / IID-test) and a held-out test
distribution:

* **systematicity**: training never contains the rule-attribute pairs Arithmetic-on-Color,
  Progression-on-Size, Distribute_Three-on-Type (each rule is still seen on another attribute);
  every test problem contains at least one held-out pair.
* **productivity**: training only uses Size levels 0-3, Color levels 0-5 (context, answer and
  distractors) and Progression steps +-1; every test problem contains a higher Size / Color
  value somewhere in its 3x3 matrix or a +-2 Progression step. This exercises M^k Z extrapolation.
* **localism**: training problems have at most one non-Constant attribute; every test problem
  has two or three non-Constant attributes at once (rules seen in isolation, tested together).
"""

from __future__ import annotations

from dataclasses import replace

from .generator import CONFIGS, TSC, GenSpec, default_spaces
from .grammar import N_VALUES, Rule

SPLITS = ("systematicity", "productivity", "localism")
PARTS = ("train", "val", "iid", "test")
HELD_OUT_PAIRS = (("color", "arithmetic"), ("size", "progression"), ("type", "distribute_three"))
PROD_CAP = {"size": 4, "color": 6}


def _has_held_out_pair(rules: dict[str, Rule], values: dict[str, list[int]]) -> bool:
    return any(rules[a].name == r for a, r in HELD_OUT_PAIRS)


def _is_novel(rules: dict[str, Rule], values: dict[str, list[int]]) -> bool:
    big = any(max(values[a]) >= cap for a, cap in PROD_CAP.items())
    step2 = any(r.name == "progression" and abs(r.param) == 2 for r in rules.values())
    return big or step2


def _n_non_constant(rules: dict[str, Rule]) -> int:
    return sum(rules[a].name != "constant" for a in TSC)


def split_spec(split: str, part: str, config: str = "center") -> GenSpec:
    """Generator spec of one part of one split. Raises ValueError for unknown names."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    if part not in PARTS:
        raise ValueError(f"unknown split part {part!r}; choose from {', '.join(PARTS)}")
    if config not in CONFIGS:
        raise ValueError(f"unknown configuration {config!r}; choose from {', '.join(CONFIGS)}")
    spaces = default_spaces(config)
    test = part == "test"
    if split == "systematicity":
        if test:
            return GenSpec(config, spaces, predicate=_has_held_out_pair)
        for a, r in HELD_OUT_PAIRS:
            spaces[a] = replace(spaces[a], rules=tuple(x for x in spaces[a].rules if x != r))
        return GenSpec(config, spaces)
    if split == "productivity":
        if test:
            return GenSpec(config, spaces, predicate=_is_novel)
        for a in spaces:
            spaces[a] = replace(spaces[a], steps=(-1, 1))
        for a, cap in PROD_CAP.items():
            spaces[a] = replace(spaces[a], vmax=cap)
        return GenSpec(config, spaces, cand_vmax=dict(PROD_CAP))
    if test:
        return GenSpec(config, spaces, predicate=lambda r, v: _n_non_constant(r) >= 2)
    return GenSpec(config, spaces, predicate=lambda r, v: _n_non_constant(r) <= 1)


def seen_values(split: str) -> dict[str, int]:
    """Number of values of each attribute that the training part of ``split`` can contain."""
    caps = dict(N_VALUES)
    if split == "productivity":
        caps.update(PROD_CAP)
    return caps
