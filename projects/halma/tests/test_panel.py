"""Panel rendering: layout, colours, digit sources."""

import numpy as np
from halma.panel import GRID, digit_pool, font_pool, goal_symbol, render
from halma.rules import PAWN, WALL

# up 1 (edge), right 2 (pawn, landing 5), down 3 (edge), left 4 (pawn, landing 9); goal (-2, 3)
SYM = np.array([[1, 2, 3, 4, WALL, PAWN, WALL, PAWN, 0, 5, 0, 9, -2, 3]])


def tile(img: np.ndarray, r: int, c: int, s: int = 8) -> np.ndarray:
    return img[:, r * s : (r + 1) * s, c * s : (c + 1) * s]


def test_render_places_each_number_in_its_tile():
    pool = digit_pool("train")
    img = render(SYM, np.zeros((1, 10), int), pool, show_goal=True)[0].astype(float) / 255
    assert img.shape == (3, GRID * 8, GRID * 8)
    images = pool.images[:, 0]
    assert np.allclose(tile(img, 1, 2)[2], images[1], atol=1 / 255)  # up: blue edge digit
    assert np.allclose(tile(img, 2, 3)[0], images[2], atol=1 / 255)  # right: red pawn digit
    assert np.allclose(tile(img, 2, 4)[0], images[5], atol=1 / 255)  # right landing, yellow
    assert np.allclose(tile(img, 2, 0)[1], 0.9 * images[9], atol=1 / 255)  # left landing
    assert tile(img, 0, 2).sum() == 0 and tile(img, 4, 2).sum() == 0  # no landing beyond edges
    assert np.allclose(tile(img, 0, 0)[1], images[2], atol=1 / 255)  # goal rows, green
    assert np.allclose(tile(img, 0, 4)[1], images[3], atol=1 / 255)  # goal columns
    assert tile(img, 4, 4).sum() == 0  # unused corner
    centre = tile(img, 2, 2)[1]
    assert centre[: 8 // 2, 8 // 2 :].sum() > 0 and centre[8 // 2 :, : 8 // 2].sum() == 0
    no_goal = render(SYM, np.zeros((1, 10), int), pool, show_goal=False)[0]
    assert tile(no_goal, 2, 2).sum() == 0


def test_instances_change_the_image_not_the_layout():
    pool = digit_pool("train")
    sym = np.repeat(SYM, 2, 0)
    a, b = render(sym, np.array([[0] * 10, [1] * 10]), pool, True)
    assert (a != b).any()
    for r in range(GRID):
        for c in range(GRID):
            assert (tile(a, r, c).sum() == 0) == (tile(b, r, c).sum() == 0)


def test_font_digits_are_distinct_images():
    pool = font_pool(8, instances=2)
    assert pool.images.shape == (10, 2, 8, 8) and pool.images.max() == 1.0
    flat = pool.images[:, 0].reshape(10, -1)
    assert len({row.round(3).tobytes() for row in flat}) == 10


def test_goal_symbol_moves_towards_the_goal():
    assert goal_symbol(8, (1, 1))[6:, 6:].all() and not goal_symbol(8, (1, 1))[:4, :4].any()
