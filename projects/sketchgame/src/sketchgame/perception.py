"""The frozen visual encoder (stand-in for the receiver's ImageNet VGG16 fc7).

A small CNN pretrained by classification on a pool of base shapes *disjoint* from the game's
(``referents.POOL_SHAPES`` × modifiers), on both photos and outline sketches, then frozen: generic
shape vision that has never seen a game category. Inputs are 3-channel images in [0, 1];
canvases (1 channel) are repeated to 3 channels, as the official code feeds canvases to VGG.
"""

from __future__ import annotations

import numpy as np
import torch
from sketchgame.render import draw
from torch import Tensor, nn


class Encoder(nn.Module):
    """Conv 3→16→32→64 (stride 2) → flatten → ``dim``-d features (the fc7 analogue), divided
    to RMS 1 per dimension on the pretraining data (the receiver's dot products start O(1))."""

    def __init__(self, size: int, dim: int, width: int = 16) -> None:
        super().__init__()
        w = width
        self.conv = nn.Sequential(
            nn.Conv2d(3, w, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.ReLU(),
        )  # fmt: skip
        self.fc = nn.Linear(4 * w * (size // 8) ** 2, dim)
        self.register_buffer("scale", torch.ones(()))  # set after pretraining: mean feature norm

    def forward(self, x: Tensor) -> Tensor:
        """x (B, 1 | 3, H, W) → features (B, dim)."""
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return torch.relu(self.fc(self.conv(x).flatten(1))) / self.scale


def sketch_images(strokes: np.ndarray, size: int, sigma: float, k: int, gain: float) -> Tensor:
    """Rendered sketches (N, n_strokes, 6) → (N, 1, size, size) with the game's renderer."""
    s = torch.as_tensor(strokes)
    with torch.no_grad():
        return draw(torch.zeros(len(s), 1, size, size), s, sigma, k, gain)


def pretrain_encoder(
    photos: np.ndarray,
    sketches: Tensor,
    labels: np.ndarray,
    size: int,
    dim: int,
    steps: int,
    seed: int,
) -> tuple[Encoder, float]:
    """Classify photos and sketches of the pool categories; return the frozen encoder and its
    accuracy on held-out pool instances (every fifth, in each input kind), the gate's metric.
    ``sketches`` holds one or more renderings of the pool sketches (clean, jittered), in blocks
    of ``len(labels)``."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x = torch.cat([torch.as_tensor(photos), sketches.expand(-1, 3, -1, -1)])
    reps = 1 + len(sketches) // len(labels)  # photos, then each rendering of the sketches
    y = torch.as_tensor(np.tile(labels, reps))
    n = len(labels)
    test = (torch.arange(len(x)) % n) % 5 == 4  # every 5th instance, in every rendering
    xtr, ytr = x[~test], y[~test]
    enc = Encoder(size, dim)
    head = nn.Linear(dim, int(y.max()) + 1)
    opt = torch.optim.Adam([*enc.parameters(), *head.parameters()], lr=2e-3)
    for _ in range(steps):
        idx = torch.randint(len(xtr), (64,), generator=g)
        loss = nn.functional.cross_entropy(head(enc(xtr[idx])), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = (head(enc(x[test])).argmax(1) == y[test]).float().mean().item()
        # RMS 1 per feature: the receiver's softmax starts neither flat nor saturated
        enc.scale.fill_(enc(xtr).norm(dim=1).mean() / dim**0.5)
    for p in enc.parameters():
        p.requires_grad_(False)
    return enc.eval(), acc
