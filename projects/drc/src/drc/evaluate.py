"""Test-time inference and metrics (official `test.py`).

Posterior Langevin from z ~ N(0, I) for `infer_test` steps; predicted mask = pi_f > 0.5;
per-image IoU = |P ∩ G| / |P ∪ G| and Dice = 2|P ∩ G| / (|P| + |G|), averaged over images.
"""

from __future__ import annotations

import numpy as np
import torch
from drc.configs import LangevinConfig, LossConfig
from drc.ebm import LatentEBM
from drc.langevin import sample_posterior
from drc.model import DRC


def iou_dice(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image IoU and Dice of boolean masks (N, H, W); an image where both are empty scores 1."""
    pred, gt = pred.astype(bool).reshape(len(pred), -1), gt.astype(bool).reshape(len(gt), -1)
    if pred.shape != gt.shape:
        raise ValueError(f"mask shapes differ: prediction {pred.shape} vs ground truth {gt.shape}")
    inter = (pred & gt).sum(1).astype(np.float64)
    union = (pred | gt).sum(1).astype(np.float64)
    total = pred.sum(1) + gt.sum(1).astype(np.float64)
    iou = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    dice = np.where(total > 0, 2 * inter / np.maximum(total, 1), 1.0)
    return iou, dice


@torch.no_grad()
def render_batches(model: DRC, z: torch.Tensor, batch: int) -> dict[str, np.ndarray]:
    """Run the generator on z in batches -> numpy pi_f (N,H,W), x_f, x_bw, composite (N,3,H,W)."""
    outs: dict[str, list[np.ndarray]] = {"pi_f": [], "x_f": [], "x_bw": [], "x_hat": []}
    for i in range(0, len(z), batch):
        r = model.render(z[i : i + batch])
        outs["pi_f"].append(r.pi_f[:, 0].cpu().numpy())
        outs["x_f"].append(r.x_f.cpu().numpy())
        outs["x_bw"].append(r.x_bw.cpu().numpy())
        outs["x_hat"].append(r.composite.cpu().numpy())
    return {k: np.concatenate(v) for k, v in outs.items()}


def infer_test(
    model: DRC,
    ebm: LatentEBM,
    x: torch.Tensor,
    lcfg: LangevinConfig,
    loss_cfg: LossConfig,
    batch: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, np.ndarray]]:
    """Posterior Langevin from noise, `lcfg.infer_test` steps, on x (N,3,H,W) -> (z, renders)."""
    zs = []
    for i in range(0, len(x), batch):
        xb = x[i : i + batch]
        z0 = torch.randn(len(xb), model.z_dim, generator=generator).to(xb.device)
        zs.append(
            sample_posterior(
                model,
                ebm,
                xb,
                z0,
                lcfg.infer_test,
                lcfg.delta_1,
                lcfg.sigma,
                loss_cfg.tv,
                lcfg.noise,
            )
        )
    z = torch.cat(zs)
    return z, render_batches(model, z, batch)
