"""Panel rendering: layout, colours, digit sources."""

import numpy as np
from halma.panel import digit_pool, font_pool, goal_symbol, render
from halma.rules import PAWN, WALL


def test_render_places_each_digit_in_its_tile():
    pool = digit_pool("train")
    sym = np.array([[1, 2, 3, 4, WALL, PAWN, WALL, PAWN, -1, 1]])
    img = render(sym, np.zeros((1, 10), int), pool, show_goal=True)[0].astype(float) / 255
    s = pool.size
    up = img[:, 0:s, s : 2 * s]
    assert np.allclose(up[2], pool.images[1, 0] * 1.0, atol=1 / 255)  # wall digits are blue
    right = img[:, s : 2 * s, 2 * s :]
    assert np.allclose(right[0], pool.images[2, 0], atol=1 / 255)  # pawn digits are red
    assert img[:, :s, :s].sum() == 0  # corners blank
    centre = img[1, s : 2 * s, s : 2 * s]
    assert centre[: s // 2, s // 2 :].sum() > 0 and centre[s // 2 :, : s // 2].sum() == 0
    no_goal = render(sym, np.zeros((1, 10), int), pool, show_goal=False)[0]
    assert no_goal[:, s : 2 * s, s : 2 * s].sum() == 0


def test_instances_change_the_image_not_the_layout():
    pool = digit_pool("train")
    sym = np.array([[5, 5, 5, 5, WALL, WALL, WALL, WALL, 0, 1]] * 2)
    a, b = render(sym, np.array([[0] * 10, [1] * 10]), pool, True)
    assert (a != b).any() and ((a > 0) == (a > 0)).all()


def test_font_digits_are_distinct_images():
    pool = font_pool(8, instances=2)
    assert pool.images.shape == (10, 2, 8, 8) and pool.images.max() == 1.0
    flat = pool.images[:, 0].reshape(10, -1)
    assert len({row.round(3).tobytes() for row in flat}) == 10


def test_goal_symbol_moves_towards_the_goal():
    assert goal_symbol(8, (1, 1))[6:, 6:].all() and not goal_symbol(8, (1, 1))[:4, :4].any()
