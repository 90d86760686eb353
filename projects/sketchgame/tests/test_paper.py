"""The paper profile builds the official sizes: heads on 4096-d features with 100-d projections,
128 px canvases, 5 strokes × 7 steps; one game step runs on CPU with a batch of one."""

import torch
from sketchgame.agents import Receiver, Sender, ValueModel
from sketchgame.configs import PROFILES
from sketchgame.perception import Encoder
from sketchgame.render import draw

from reprokit.config import parse


def test_paper_profile_sizes_and_one_step() -> None:
    _, cfg = parse(PROFILES, ["--profile", "paper"])
    g, m, tr = cfg.game, cfg.model, cfg.train
    assert (g.size, g.strokes_per_step, g.max_step, tr.batch_size, tr.n_games) == (
        128,
        5,
        7,
        64,
        50_000,
    )
    assert (g.gamma, g.lam, tr.sender_lr, tr.receiver_lr, tr.warmup_games) == (
        0.85,
        0.95,
        1e-4,
        1e-4,
        2000,
    )
    rec, val = Receiver(m.feat_dim, m.proj_dim), ValueModel(m.feat_dim, m.proj_dim)
    assert rec.lin1.weight.shape == (100, 4096) and rec.lin2.weight.shape == (100, 4096)
    assert (
        sum(p.numel() for p in val.parameters()) == 3 * 4096 * 100 + 400 * 100 + 100 + 101
    )  # bias-free lin1-3, as in the official code
    sender = Sender(g.size, g.strokes_per_step, g.max_step, m.sender_width)
    enc = Encoder(g.size, m.feat_dim)
    sketch = torch.rand(1, 1, 128, 128)
    sender.eval()
    strokes = sender(torch.zeros(1, 1, 128, 128), sketch, 0)
    canvas = draw(torch.zeros(1, 1, 128, 128), strokes, g.sigma, g.points_per_stroke, g.gain)
    f = enc(canvas)
    logits = rec(torch.randn(1, 3, 4096), enc(torch.zeros(1, 1, 128, 128)), f)
    assert strokes.shape == (1, 5, 6) and logits.shape == (1, 4)
