"""Sender pretraining: an iconic sketcher (stand-in for the official Learning-to-Paint actor
retrained on the sketches).

The note's pilot found that a pixel loss through 1-px lines does not pretrain a sketcher, so the
sketches are made of strokes in the sender's own parameterisation and the sender is trained by
teacher-forced regression: at step t its input canvas is the sketch's first t·S strokes and its
target is strokes t·S … (t+1)·S − 1. ``rollout`` then draws with the sender's own canvases, whose
errors compound step by step under pure teacher forcing (exposure bias), so after ``own_after``
updates half of each batch starts from the sender's own canvas after t steps, with the same
target (DAgger with the sketch as the expert; the official L2P actor is trained on its own
canvases too).
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
    own_after: int | None = None,
    refresh: int = 250,
) -> list[float]:
    """Regression of the next S strokes from teacher-forced canvases and, after ``own_after``
    updates, for every second game of a batch from the sender's own canvases (refreshed every
    ``refresh`` updates); returns the loss curve."""
    g = torch.Generator().manual_seed(seed)
    S, T = sender.strokes_per_step, sender.max_step
    canvases = teacher_canvases(strokes, S, T, draw_kw)
    own = torch.arange(batch)[:, None, None, None] % 2 == 1
    opt = torch.optim.Adam(sender.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    sender.train()
    losses = []
    for n in range(steps):
        if own_after is not None and n >= own_after and (n - own_after) % refresh == 0:
            own_canvases = canvases_before_steps(sender, sketches, draw_kw)
        i = torch.randint(len(strokes), (batch,), generator=g)
        t = torch.randint(T, (batch,), generator=g)  # mixed steps: BatchNorm sees every step
        target = strokes[i].view(batch, T, S, 6)[torch.arange(batch), t]
        canvas = canvases[i, t]
        if own_after is not None and n >= own_after:
            canvas = torch.where(own, own_canvases[i, t], canvas)
        pred = sender(canvas, sketches[i], t)
        loss = ((pred - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


def canvases_before_steps(sender: Sender, sketches: Tensor, draw_kw: dict) -> Tensor:
    """The sender's own canvas before each step (blank first), BatchNorm in eval mode:
    (N, T, 1, H, W)."""
    mode = sender.training
    sender.eval()
    _, after = rollout(sender, sketches, draw_kw)
    sender.train(mode)
    return torch.cat([torch.zeros_like(after[:, :1]), after[:, :-1]], 1)


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
