"""Sender pretraining: an iconic sketcher (stand-in for the official Learning-to-Paint actor
retrained on the sketches).

The note's pilot found that a pixel loss through 1-px lines does not pretrain a sketcher, so the
sketches are made of strokes in the sender's own parameterisation and the sender is trained by
teacher-forced regression: at step t its input canvas is the sketch's first t·S strokes and its
target is strokes t·S … (t+1)·S − 1. ``rollout`` then draws with the sender's own canvases.
"""

from __future__ import annotations

import torch
from sketchgame.agents import Sender
from sketchgame.render import draw
from torch import Tensor


def teacher_canvases(strokes: Tensor, per_step: int, max_step: int, draw_kw: dict) -> Tensor:
    """Canvases before each step under teacher forcing: (N, max_step, 1, H, W)."""
    N, size = strokes.shape[0], draw_kw["size"]
    kw = {k: v for k, v in draw_kw.items() if k != "size"}
    canvas = torch.zeros(N, 1, size, size)
    out = []
    with torch.no_grad():
        for t in range(max_step):
            out.append(canvas)
            canvas = draw(canvas, strokes[:, t * per_step : (t + 1) * per_step], **kw)
    return torch.stack(out, 1)


def pretrain_sender(
    sender: Sender,
    strokes: Tensor,
    sketches: Tensor,
    steps: int,
    lr: float,
    batch: int,
    draw_kw: dict,
    seed: int,
) -> list[float]:
    """Teacher-forced regression of the next S strokes; returns the loss curve."""
    g = torch.Generator().manual_seed(seed)
    S, T = sender.strokes_per_step, sender.max_step
    canvases = teacher_canvases(strokes, S, T, draw_kw)
    opt = torch.optim.Adam(sender.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    sender.train()
    losses = []
    for _ in range(steps):
        i = torch.randint(len(strokes), (batch,), generator=g)
        t = torch.randint(T, (batch,), generator=g)  # mixed steps: BatchNorm sees every step
        target = strokes[i].view(batch, T, S, 6)[torch.arange(batch), t]
        pred = sender(canvases[i, t], sketches[i], t)
        loss = ((pred - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def rollout(sender: Sender, sketches: Tensor, draw_kw: dict) -> tuple[Tensor, Tensor]:
    """The sender draws all steps on its own canvas: (strokes (N, T·S, 6), canvases (N, T, 1, H, W)
    after each step)."""
    size = draw_kw["size"]
    kw = {k: v for k, v in draw_kw.items() if k != "size"}
    canvas = torch.zeros(len(sketches), 1, size, size)
    strokes, canvases = [], []
    for t in range(sender.max_step):
        s = sender(canvas, sketches, t)
        canvas = draw(canvas, s, **kw)
        strokes.append(s)
        canvases.append(canvas)
    return torch.cat(strokes, 1), torch.stack(canvases, 1)
