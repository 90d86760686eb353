"""Generator validity: rules, uniqueness checker, I-RAVEN bisection tree, splits, renderer."""

import numpy as np
import pytest
from alans.generator import CONFIGS, GenSpec, default_spaces, generate, sample_problem
from alans.grammar import (
    LAYOUTS,
    Rule,
    alans_label,
    bisection_candidates,
    check_unique,
    matrix_fits,
    rotate,
)
from alans.render import render_panel
from alans.splits import HELD_OUT_PAIRS, PROD_CAP, split_spec


def _tuples(p):
    return [tuple(int(v) for v in row) for row in p]


def test_rules_fit_and_reject():
    assert matrix_fits(Rule("size", "progression", 1), [0, 1, 2, 3, 4, 5, 1, 2, 3])
    assert not matrix_fits(Rule("size", "progression", 1), [0, 1, 2, 3, 4, 6, 1, 2, 3])
    assert matrix_fits(
        Rule("size", "arithmetic", 1), [0, 1, 2, 1, 1, 3, 0, 0, 1]
    )  # c3 = c1 + c2 + 1
    assert matrix_fits(Rule("color", "arithmetic", -1), [5, 2, 3, 9, 9, 0, 4, 1, 3])
    assert matrix_fits(Rule("type", "distribute_three", 1), [0, 1, 2, 1, 2, 0, 2, 0, 1])
    assert not matrix_fits(Rule("type", "distribute_three", -1), [0, 1, 2, 1, 2, 0, 2, 0, 1])
    assert matrix_fits(Rule("position", "arithmetic", 1), [1, 2, 3, 4, 1, 5, 8, 4, 12], 4)
    assert rotate(0b0001, 1, 4) == 0b0010 and rotate(0b1000, 1, 4) == 0b0001
    assert rotate(0b0001, -1, 4) == 0b1000
    # 3x3 Grid (distribute_nine): 9 slots, shifts by +-1 and +-2 wrap around slot 8 -> slot 0
    assert rotate(1 << 8, 1, 9) == 1 and rotate(0b11, -2, 9) == 0b110000000
    shift2 = [0b1, 0b100, 0b10000, 0b11, 0b1100, 0b110000, 1 << 7, 0b1, 0b100]
    assert matrix_fits(Rule("position", "progression", 2), shift2, 9)
    assert not matrix_fits(Rule("position", "progression", 2), shift2, 4)
    with pytest.raises(ValueError, match="n_slots"):
        matrix_fits(Rule("position", "constant"), [1] * 9)


def test_alans_labels():
    assert (
        alans_label(Rule("size", "constant")) == 0
        and alans_label(Rule("size", "progression", 2)) == 0
    )
    assert (
        alans_label(Rule("size", "arithmetic", 1)) == 1
        and alans_label(Rule("size", "arithmetic", -1)) == 2
    )
    assert alans_label(Rule("type", "distribute_three", 1)) == 3
    assert alans_label(Rule("type", "distribute_three", -1)) == 4
    assert alans_label(Rule("position", "arithmetic", -1)) == 1
    assert alans_label(Rule("position", "distribute_three", -1)) == 3


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("iraven", [True, False])
def test_every_problem_has_a_unique_answer(config, iraven):
    """The checker re-verifies (independently of generation) 500 problems per setting."""
    d = generate(GenSpec(config, default_spaces(config)), 500, seed=3, iraven=iraven)
    layout = LAYOUTS[config]
    attrs = (("number",) if layout.n_slots > 1 else ()) + ("type", "size", "color")
    for n in range(len(d["target"])):
        p = _tuples(d["panels"][n])
        assert check_unique(p[:8], p[8:], int(d["target"][n]), attrs, layout)
        # a wrong target must fail the checker
        assert not check_unique(p[:8], p[8:], (int(d["target"][n]) + 1) % 8, attrs, layout)
    assert np.bincount(d["target"], minlength=8).min() > 30  # answer position is uniform


def test_checker_detects_an_ambiguous_candidate_set():
    d = generate(GenSpec("center", default_spaces("center")), 5, seed=0)
    p = _tuples(d["panels"][0])
    y = int(d["target"][0])
    cands = p[8:]
    cands[(y + 1) % 8] = cands[y]  # a duplicate of the answer is consistent too
    assert not check_unique(p[:8], cands, y, ("type", "size", "color"), LAYOUTS["center"])


def test_iraven_candidates_follow_the_bisection_tree():
    d = generate(GenSpec("center", default_spaces("center")), 200, seed=1, iraven=True)
    for n in range(200):
        c = d["panels"][n, 8:]
        ans = c[d["target"][n]]
        for i in (1, 2, 3):  # each attribute takes exactly 2 values, 4 candidates each
            vals, counts = np.unique(c[:, i], return_counts=True)
            assert len(vals) == 2 and (counts == 4).all() and ans[i] in vals
        assert len({tuple(r) for r in c}) == 8
    tree = bisection_candidates((1, 0, 0, 0), {1: 3, 2: 4, 3: 5})
    assert len(set(tree)) == 8 and tree[0] == (1, 0, 0, 0) and tree[-1] == (1, 3, 4, 5)


def test_raven_candidates_differ_from_the_answer_in_one_attribute():
    d = generate(GenSpec("center", default_spaces("center")), 100, seed=2, iraven=False)
    for n in range(100):
        c = d["panels"][n, 8:]
        diff = (c != c[d["target"][n]]).sum(1)
        assert sorted(diff)[0] == 0 and (sorted(diff)[1:] == np.ones(7)).all()


def test_split_definitions():
    rng = np.random.default_rng(0)
    for part, held in (("train", False), ("test", True)):
        spec = split_spec("systematicity", part)
        for _ in range(300):
            p = sample_problem(spec, rng)
            if p is None:
                continue
            has = any(p["rules"][a].name == r for a, r in HELD_OUT_PAIRS)
            assert has == held
    spec = split_spec("productivity", "train")
    d = generate(spec, 300, seed=0)
    assert (
        d["panels"][..., 2].max() < PROD_CAP["size"]
        and d["panels"][..., 3].max() < PROD_CAP["color"]
    )
    assert (np.abs(d["rule_params"][d["rule_ids"] == 1]) == 1).all()  # progression steps +-1 only
    d = generate(split_spec("localism", "train"), 300, seed=0)
    assert ((d["rule_ids"][:, 1:] != 0).sum(1) <= 1).all()
    d = generate(split_spec("localism", "test"), 300, seed=0)
    assert ((d["rule_ids"][:, 1:] != 0).sum(1) >= 2).all()
    with pytest.raises(ValueError, match="unknown split"):
        split_spec("compositionality", "train")
    with pytest.raises(ValueError, match="unknown configuration"):
        split_spec("localism", "train", "distribute_nine")


def test_renderer():
    a = render_panel(np.array([1, 4, 5, 9]), np.zeros(4, int), "center", 160)
    b = render_panel(np.array([1, 4, 0, 9]), np.zeros(4, int), "center", 160)
    assert a.shape == (160, 160) and a.dtype == np.uint8
    assert (a < 128).sum() > (b < 128).sum() > 0  # bigger black object -> more dark pixels
    g = render_panel(np.array([0b1001, 1, 3, 5]), np.zeros(4, int), "grid2x2", 32)
    assert g.shape == (32, 32) and g[:16, 16:].min() == 255 and g[:16, :16].min() < 255


def test_grid3x3_is_distribute_nine():
    """9 slots, Number 1..9, Position rules (shifts by +-1 and +-2, union / difference,
    Distribute_Three) on the 9 slots; I-RAVEN cubes over 3 of (Position, Type, Size, Color)."""
    d = generate(GenSpec("grid3x3", default_spaces("grid3x3")), 400, seed=5)
    masks = d["panels"][..., 0]
    counts = np.vectorize(lambda m: bin(int(m)).count("1"))(masks)
    assert masks.max() > 15 and masks.max() < 512 and set(np.unique(counts)) == set(range(1, 10))
    on_pos = d["numpos_on_position"] == 1
    assert set(d["rule_ids"][on_pos, 0]) == {0, 1, 2, 3}  # every Position rule occurs
    shifts = d["rule_params"][on_pos & (d["rule_ids"][:, 0] == 1), 0]
    assert set(shifts) == {-2, -1, 1, 2}
    assert set(d["rule_ids"][~on_pos, 0]) == {1, 2, 3}  # Number rules (Constant is Position)
    for n in range(len(d["target"])):  # bisection tree: each modified slot takes 2 values
        c = d["panels"][n, 8:]
        assert sorted(len(np.unique(c[:, i])) for i in range(4)) == [1, 2, 2, 2]
    assert d["angles"].shape == (400, 16, 9)


def test_renderer_3x3_cells():
    img = render_panel(np.array([1 << 4, 1, 5, 9]), np.zeros(9, int), "grid3x3", 96)
    dark = img < 128
    assert dark[32:64, 32:64].sum() > 0 and dark.sum() == dark[32:64, 32:64].sum()
