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


def _square_sketch(modifier: str, k: int) -> np.ndarray:
    """The same square instance (same pose, same jitter) with the modifier after k strokes."""
    pose = ref.random_pose(np.random.default_rng(0))
    return ref.sketch_strokes("square", modifier, pose, 35, np.random.default_rng(1), k)


@pytest.mark.parametrize("modifier", ref.MODIFIERS)
@pytest.mark.parametrize("k", [0, 10, 25])
def test_sketch_strokes_put_the_modifier_after_k_outline_strokes(modifier: str, k: int) -> None:
    n_out = 35 - ref.N_MODIFIER_STROKES
    whole, s = _square_sketch(modifier, n_out), _square_sketch(modifier, k)
    assert s.shape == (35, 6) and s.min() >= 0 and s.max() <= 1
    # the outline is one connected polyline: each stroke starts where the previous ended
    assert np.allclose(whole[1:n_out, :2], whole[: n_out - 1, 4:6], atol=1e-6)
    mods = np.arange(k, k + ref.N_MODIFIER_STROKES)
    np.testing.assert_array_equal(s[mods], whole[n_out:])  # the modifier strokes, after k
    np.testing.assert_array_equal(np.delete(s, mods, 0), whole[:n_out])  # the outline in order
    with pytest.raises(ValueError, match="modifiers_after"):
        _square_sketch(modifier, n_out + 1)


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
