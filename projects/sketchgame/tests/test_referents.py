"""The referent generator: categories, held-out base shapes never in training games, sketches."""

import numpy as np
import pytest
from sketchgame import referents as ref


def test_categories_and_splits() -> None:
    seen, unseen = ref.split_shapes(("ellipse", "star"))
    assert len(ref.categories(seen)) == 18 and len(ref.categories(unseen)) == 6
    assert set(seen).isdisjoint(unseen) and set(ref.POOL_SHAPES).isdisjoint(ref.GAME_SHAPES)


def test_heldout_categories_never_in_training_games() -> None:
    cats = ref.categories(ref.GAME_SHAPES)
    seen_shapes, _ = ref.split_shapes(("ellipse", "star"))
    seen = np.array([i for i, c in enumerate(cats) if c[0] in seen_shapes])
    g = ref.sample_games(cats, seen, np.arange(10), 2000, 0.6, np.random.default_rng(0))
    used = {cats[c][0] for c in np.concatenate([g.sketch_cat, g.cand_cat.ravel()])}
    assert used <= set(seen_shapes) and used.isdisjoint({"ellipse", "star"})


def test_games_have_distinct_candidates_and_same_shape_distractors() -> None:
    cats = ref.categories(ref.GAME_SHAPES)
    ids = np.arange(len(cats))
    g = ref.sample_games(cats, ids, np.arange(10), 1000, 0.6, np.random.default_rng(1))
    assert all(len(set(row)) == 3 for row in g.cand_cat)
    assert (g.cand_cat[np.arange(1000), g.target] == g.sketch_cat).all()
    shapes = np.array([[cats[c][0] for c in row] for row in g.cand_cat])
    target_shape = shapes[np.arange(1000), g.target]
    same = (shapes == target_shape[:, None]).sum(1) >= 2
    assert same.mean() >= 0.5
    assert np.bincount(g.target, minlength=3).min() > 250  # target slot uniform


@pytest.mark.parametrize("modifier", ref.MODIFIERS)
def test_sketch_strokes_are_outline_then_modifier(modifier: str) -> None:
    rng = np.random.default_rng(0)
    pose = ref.random_pose(rng)
    s = ref.sketch_strokes("square", modifier, pose, 35, rng)
    assert s.shape == (35, 6) and s.min() >= 0 and s.max() <= 1
    n_out = 35 - ref.N_MODIFIER_STROKES
    # the outline is one connected polyline: each stroke starts where the previous ended
    assert np.allclose(s[1:n_out, :2], s[: n_out - 1, 4:6], atol=1e-6)


def test_photo_and_similarity() -> None:
    rng = np.random.default_rng(0)
    img = ref.photo("circle", "dot", ref.random_pose(rng), 32, rng)
    assert img.shape == (3, 32, 32) and img.min() >= 0 and img.max() <= 1
    cats = ref.categories(ref.GAME_SHAPES)
    sim = ref.attribute_similarity(cats)
    assert np.allclose(np.diag(sim), 1) and np.allclose(sim, sim.T)
    i, j = cats.index(("circle", "dot")), cats.index(("ellipse", "dot"))
    k = cats.index(("star", "plain"))
    assert sim[i, j] == 0.75 and sim[i, k] == 0.0
