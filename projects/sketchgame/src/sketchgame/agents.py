"""Sender, receiver and value model (the official ``Sender``, ``ReceiverOnestep``, ``ValueModel``).

* Sender: CNN over [canvas, sketch, step/max_step plane, x and y coordinate planes] →
  ``strokes_per_step`` × 6 stroke parameters through a sigmoid. BatchNorm statistics are frozen
  during the game (``sender_fix_norm``): call ``freeze_norm`` after pretraining.
* Receiver: frozen encoder f; bias-free projections (as in the code): ``lin1`` for the
  candidates *and the previous canvas*, ``lin2`` for the current canvas; logits
  ``[lin1(f(cand_k))·lin2(f(canvas_t))]_k ∪ [lin1(f(canvas_{t−1}))·lin2(f(canvas_t))]`` (the last
  one is "wait"), softmax.
* Value model: bias-free lin1 on the sketch and on the summed candidate features (one projection,
  as in the code), lin2 on the previous canvas, lin3 on the current canvas → concat → fc (ELU) → 1.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Sender(nn.Module):
    def __init__(self, size: int, strokes_per_step: int, max_step: int, width: int = 32) -> None:
        super().__init__()
        self.strokes_per_step, self.max_step = strokes_per_step, max_step
        w = width

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, 2, 1), nn.BatchNorm2d(cout), nn.ReLU()]

        self.conv = nn.Sequential(*block(5, w), *block(w, 2 * w), *block(2 * w, 2 * w))
        self.head = nn.Sequential(
            nn.Linear(2 * w * (size // 8) ** 2, 256),
            nn.ReLU(),
            nn.Linear(256, strokes_per_step * 6),
        )
        g = (torch.arange(size) + 0.5) / size
        self.register_buffer("coords", torch.stack(torch.meshgrid(g, g, indexing="xy"))[None])

    def forward(self, canvas: Tensor, sketch: Tensor, step: int | Tensor) -> Tensor:
        """canvas, sketch (B, 1, H, W), step t ∈ {0, …, max_step−1} (int or (B,)) → (B, S, 6)."""
        B = canvas.shape[0]
        t = torch.as_tensor(step, dtype=canvas.dtype).expand(B)
        plane = (t / self.max_step)[:, None, None, None].expand_as(canvas)
        x = torch.cat([canvas, sketch, plane, self.coords.expand(B, -1, -1, -1)], 1)
        out = torch.sigmoid(self.head(self.conv(x).flatten(1)))
        return out.view(B, self.strokes_per_step, 6)

    def freeze_norm(self) -> None:
        """Keep BatchNorm in eval mode with its statistics fixed (official sender_fix_norm=1)."""
        self._norm_frozen = True
        self.train(self.training)

    def train(self, mode: bool = True) -> Sender:
        super().train(mode)
        if getattr(self, "_norm_frozen", False):
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self


class Receiver(nn.Module):
    def __init__(self, feat_dim: int, proj_dim: int) -> None:
        super().__init__()
        self.lin1 = nn.Linear(feat_dim, proj_dim, bias=False)
        self.lin2 = nn.Linear(feat_dim, proj_dim, bias=False)

    def forward(self, f_cands: Tensor, f_prev: Tensor, f_now: Tensor) -> Tensor:
        """f_cands (B, 3, D), f_prev, f_now (B, D) → action logits (B, 4), index 3 = wait."""
        keys = torch.cat([f_cands, f_prev[:, None]], 1)  # (B, 4, D)
        return torch.einsum("bkp,bp->bk", self.lin1(keys), self.lin2(f_now))


class ValueModel(nn.Module):
    def __init__(self, feat_dim: int, proj_dim: int) -> None:
        super().__init__()
        self.lin1 = nn.Linear(feat_dim, proj_dim, bias=False)
        self.lin2 = nn.Linear(feat_dim, proj_dim, bias=False)
        self.lin3 = nn.Linear(feat_dim, proj_dim, bias=False)
        self.fc = nn.Sequential(nn.Linear(4 * proj_dim, proj_dim), nn.ELU(), nn.Linear(proj_dim, 1))

    def forward(
        self, f_sketch: Tensor, f_cand_sum: Tensor, f_prev: Tensor, f_now: Tensor
    ) -> Tensor:
        """Features (B, D) each → V (B,)."""
        h = [self.lin1(f_sketch), self.lin1(f_cand_sum), self.lin2(f_prev), self.lin3(f_now)]
        return self.fc(torch.cat(h, 1)).squeeze(1)
