"""Agents: shapes, the tile split, the per-episode memory reset, paper-scale sizes."""

import numpy as np
import pytest
import torch
from halma.agents import AGENT_NAMES, Agent, tiles
from halma.panel import digit_pool, render
from halma.rules import PAWN, WALL


def test_tiles_follow_the_panel_layout():
    pool = digit_pool("train")
    sym = np.array([[1, 2, 3, 4, WALL, PAWN, WALL, PAWN, -1, 1]])
    panel = torch.from_numpy(render(sym, np.zeros((1, 10), int), pool, True))
    t = tiles(panel).reshape(1, 9, 3, 8, 8)
    assert (t[0, 1] == panel[0, :, 0:8, 8:16]).all()  # up
    assert (t[0, 5] == panel[0, :, 8:16, 16:24]).all()  # right
    assert (t[0, 4] == panel[0, :, 8:16, 8:16]).all()  # centre: the goal symbol


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_agent_step_and_memory_reset(name):
    torch.manual_seed(0)
    agent = Agent(name, 8, 48)
    panel = torch.randint(0, 255, (2, 3, 24, 24), dtype=torch.uint8)
    start = torch.tensor([True, True])
    logits, value, h = agent(panel, agent.initial(2), start)
    assert logits.shape == (2, 48) and value.shape == (2,) and h.shape == (2, 128)
    again = agent(panel, h, torch.tensor([True, False]))
    assert torch.allclose(again[0][0], logits[0])  # a new episode forgets
    assert not torch.allclose(again[0][1], logits[1])  # the same episode remembers


def test_factored_and_relational_share_one_tile_encoder():
    counts = {n: sum(p.numel() for p in Agent(n, 8, 48).parameters()) for n in AGENT_NAMES}
    assert counts["factored"] < counts["cnn_gru"] and counts["relational"] < counts["cnn_gru"]
    first = Agent("factored", 8, 48).encoder.tile[0]
    assert first.in_features == 3 * 8 * 8  # one tile, not the panel
