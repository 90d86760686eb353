"""Agents: shapes, the tile split, the per-episode memory reset, the factored agent's symmetry,
which encoders are shared."""

import numpy as np
import pytest
import torch
from halma.agents import AGENT_NAMES, IMAGE_AGENTS, make_agent
from halma.panel import GRID, digit_pool, render
from halma.perception import DIGIT_TILES, tiles
from halma.rules import PAWN, WALL

SYM = np.array([[1, 2, 3, 4, WALL, PAWN, WALL, PAWN, 0, 5, 0, 9, -2, 3]])


def test_tiles_follow_the_panel_layout():
    pool = digit_pool("train")
    panel = torch.from_numpy(render(SYM, np.zeros((1, 10), int), pool, True))
    t = tiles(panel).reshape(1, GRID * GRID, 3, 8, 8)
    assert (t[0, 7] == panel[0, :, 8:16, 16:24]).all()  # (1, 2): the up digit
    assert (t[0, 13] == panel[0, :, 16:24, 24:32]).all()  # (2, 3): the right digit
    assert (t[0, 12] == panel[0, :, 16:24, 16:24]).all()  # centre: the goal symbol


def observation(name: str, n: int) -> torch.Tensor:
    if name in IMAGE_AGENTS:
        return torch.randint(0, 255, (n, 3, GRID * 8, GRID * 8), dtype=torch.uint8)
    rng = np.random.default_rng(0)
    sym = np.concatenate(
        [
            rng.integers(1, 9, (n, 4)),
            rng.integers(1, 3, (n, 4)),
            rng.integers(0, 9, (n, 4)),
            rng.integers(-8, 9, (n, 2)),
        ],
        1,
    )
    return torch.from_numpy(sym)


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_agent_step_and_memory_reset(name):
    torch.manual_seed(0)
    agent = make_agent(name, 8, 48, hidden=32)
    obs = observation(name, 2)
    logits, value, h = agent(obs, agent.initial(2), torch.tensor([True, True]))
    assert logits.shape == (2, 48) and value.shape == (2,) and h.shape == (2, 32)
    again = agent(obs, h, torch.tensor([True, False]))
    assert torch.allclose(again[0][0], logits[0])  # a new episode forgets
    assert not torch.allclose(again[0][1], logits[1])  # the same episode remembers


def rotate(sym: torch.Tensor) -> torch.Tensor:
    """The panel of the board turned 90 degrees clockwise: up -> right -> down -> left -> up."""
    out = sym.clone()
    for block in (slice(0, 4), slice(4, 8), slice(8, 12)):
        out[:, block] = sym[:, block].roll(1, dims=1)
    out[:, 12], out[:, 13] = sym[:, 13], -sym[:, 12]  # (dy, dx) -> (dx, -dy)
    return out


def test_the_factored_agent_is_equivariant_to_rotations_and_the_flat_one_is_not():
    torch.manual_seed(0)
    obs, start = observation("symbolic", 5), torch.ones(5, dtype=torch.bool)
    for name, equivariant in (("symbolic_factored", True), ("symbolic", False)):
        agent = make_agent(name, 8, 48)
        a = agent(obs, agent.initial(5), start)[0].reshape(5, 4, 12)
        b = agent(rotate(obs), agent.initial(5), start)[0].reshape(5, 4, 12)
        assert torch.allclose(a.roll(1, dims=1), b, atol=1e-5) == equivariant, name


def test_the_blind_agent_ignores_the_numbers():
    torch.manual_seed(0)
    agent, start = make_agent("symbolic_blind", 8, 48), torch.ones(2, dtype=torch.bool)
    obs = observation("symbolic", 2)
    other = obs.clone()
    other[:, :4] = other[:, :4] + 1  # other distances, same signs
    assert torch.equal(
        agent(obs, agent.initial(2), start)[0], agent(other, agent.initial(2), start)[0]
    )


def test_image_readers_share_one_digit_encoder_and_the_baseline_does_not():
    for name in ("factored", "relational"):
        first = make_agent(name, 8, 48).reader.digit[0]
        assert first.in_features == 3 * 8 * 8  # one tile, not the panel
    digit = make_agent("slot_gru", 8, 48).reader.digit
    assert digit.weights[0].shape == (len(DIGIT_TILES), 3 * 8 * 8, 32)  # its own per tile
    assert not torch.allclose(digit.weights[0][0], digit.weights[0][1])


def test_the_baseline_reads_each_tile_with_its_own_encoder():
    """Changing one tile's image changes only that tile's reading in ``slot_gru``; the shared
    encoder reads the same image the same way in every tile."""
    torch.manual_seed(0)
    x = torch.rand(2, len(DIGIT_TILES), 3 * 8 * 8)
    moved = x.clone()
    moved[:, 3] = x[:, 5]  # tile 3 now shows tile 5's image
    unshared = make_agent("slot_gru", 8, 48).reader.digit
    a, b = unshared(x), unshared(moved)
    assert torch.equal(a[:, :3], b[:, :3]) and torch.equal(a[:, 4:], b[:, 4:])
    assert not torch.allclose(b[:, 3], a[:, 5])
    shared = make_agent("factored", 8, 48).reader.digit
    assert torch.allclose(shared(moved)[:, 3], shared(x)[:, 5])
