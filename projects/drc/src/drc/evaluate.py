"""Test-time inference and metrics (official `test.py`).

Posterior Langevin from z ~ N(0, I) for `infer_test` steps; predicted mask = pi_f > 0.5;
per-image IoU = |P ∩ G| / |P ∪ G| and Dice = 2|P ∩ G| / (|P| + |G|), averaged over images.
Fit diagnostics (the gates of `drc.claims`): L1 in [-1, 1] units of the composite x^, of each
expert (x_f and the re-assigned background x~_b) on object / background pixels, of the per-image
mean colour, and the warp's mean displacement |g - g_id| in pixels.
"""

from __future__ import annotations

import numpy as np
import torch
from drc.configs import LangevinConfig, LossConfig
from drc.ebm import LatentEBM
from drc.langevin import sample_posterior
from drc.model import DRC, identity_grid


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


@torch.inference_mode()
def render_batches(model: DRC, z: torch.Tensor, batch: int) -> dict[str, np.ndarray]:
    """Run the generator on z in batches -> numpy pi_f (N,H,W), x_f, x_bw, composite (N,3,H,W)."""
    outs: dict[str, list[np.ndarray]] = {
        "pi_f": [],
        "x_f": [],
        "x_bw": [],
        "x_hat": [],
        "disp_px": [],
        "disp": [],
    }
    for i in range(0, len(z), batch):
        r = model.render(z[i : i + batch])
        outs["pi_f"].append(r.pi_f[:, 0].cpu().numpy())
        outs["x_f"].append(r.x_f.cpu().numpy())
        outs["x_bw"].append(r.x_bw.cpu().numpy())
        outs["x_hat"].append(r.composite.cpu().numpy())
        d = displacement(r.grid, r.x_f.shape)  # (B, H, W, 2)
        outs["disp"].append(d.permute(0, 3, 1, 2).cpu().numpy())
        outs["disp_px"].append(d.norm(dim=-1).cpu().numpy())
    return {k: np.concatenate(v) for k, v in outs.items()}


def displacement(grid: torch.Tensor | None, shape: torch.Size) -> torch.Tensor:
    """Per-pixel displacement g - g_id in pixels, (B, H, W, 2) as (x, y); zeros without warp.

    With `align_corners=False` the normalised span [-1, 1] covers W (resp. H) pixels, so one
    normalised unit is W / 2 (H / 2) pixels.
    """
    B, _, H, W = shape
    if grid is None:
        return torch.zeros(B, H, W, 2)
    d = grid - identity_grid(B, H, W, grid.device)
    return d * torch.tensor([W / 2, H / 2], device=grid.device)


def l1_on(a: np.ndarray, x: np.ndarray, where: np.ndarray) -> float | None:
    """Mean |a - x| (over channels and the pixels where `where` (N, H, W) is True); None if none."""
    if not where.any():
        return None
    return float(np.abs(a - x).mean(axis=1)[where].mean())


def fit_diagnostics(rend: dict[str, np.ndarray], x: np.ndarray, m: np.ndarray) -> dict:
    """How well the experts explain held-out images x (N,3,H,W) with object masks m (N,H,W).

    Keys: `recon` (composite x^ on every pixel), `fg_object` / `fg_background` (x_f on object /
    background pixels), `bg_object` / `bg_background` (x~_b likewise), `disp_px` (mean warp
    displacement in pixels).
    """
    m = m.astype(bool)
    every = np.ones_like(m)
    return {
        "recon": l1_on(rend["x_hat"], x, every),
        "fg_object": l1_on(rend["x_f"], x, m),
        "fg_background": l1_on(rend["x_f"], x, ~m),
        "bg_object": l1_on(rend["x_bw"], x, m),
        "bg_background": l1_on(rend["x_bw"], x, ~m),
        "disp_px": float(rend["disp_px"].mean()),
        "disp_p90_px": float(np.percentile(rend["disp_px"], 90)),
        "disp_object_px": float(rend["disp_px"][m].mean()) if m.any() else None,
    }


def mean_colour_l1(x: np.ndarray) -> float:
    """L1 of the trivial predictor that paints each image (N,3,H,W) its own mean colour."""
    return float(np.abs(x - x.mean(axis=(2, 3), keepdims=True)).mean())


def trend_steps(n_steps: int) -> tuple[int, ...]:
    """Test-chain lengths at which the held-out masks are also scored: n/8, n/4, n/2 and n."""
    return tuple(sorted({max(1, n_steps // k) for k in (8, 4, 2, 1)}))


def infer_test(
    model: DRC,
    ebm: LatentEBM,
    x: torch.Tensor,
    lcfg: LangevinConfig,
    loss_cfg: LossConfig,
    batch: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, np.ndarray]]:
    """Posterior Langevin from noise, `lcfg.infer_test` steps, on x (N,3,H,W) -> (z, renders).

    The renders also hold `pi_f@<n>` (N, H, W): pi_f after the first n steps of the same chains,
    for n in `trend_steps` (splitting a chain draws the same noise, so z is unchanged).
    """
    zs, trend = [], {n: [] for n in trend_steps(lcfg.infer_test)}
    for i in range(0, len(x), batch):
        xb = x[i : i + batch]
        z = torch.randn(len(xb), model.z_dim, generator=generator).to(xb.device)
        done = 0
        for n in trend:
            z = sample_posterior(
                model, ebm, xb, z, n - done, lcfg.delta_1, lcfg.sigma, loss_cfg.tv, lcfg.noise
            )
            done = n
            with torch.inference_mode():
                trend[n].append(model.render(z).pi_f[:, 0].cpu().numpy())
        zs.append(z)
    z = torch.cat(zs)
    rend = render_batches(model, z, batch)
    return z, rend | {f"pi_f@{n}": np.concatenate(v) for n, v in trend.items()}
