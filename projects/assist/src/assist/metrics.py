"""Image, depth and panoptic metrics, and the edit-region scores of an edited scene.

* PSNR over a pixel mask; SSIM (Gaussian window 11, σ = 1.5, the usual constants).
* Depth L1 without a 1-pixel band at GT depth / instance edges (at 128×96 a one-pixel shift of
  an edge alone costs centimetres; design risk 3).
* Panoptic quality (Kirillov et al.): segments matched at IoU > 0.5 with the same class,
  PQ = Σ_TP IoU / (TP + ½FP + ½FN), accumulated over the views; semantic mIoU over the classes.
* Edit scores: the edit region = pixels where the edited and the unedited GT differ (instance or
  colour), minus the disoccluded pixels (surface points no training view observed), which are
  scored apart; plus the IoU of each edited instance.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def psnr(pred: Tensor, gt: Tensor, mask: Tensor | None = None) -> float:
    """PSNR (dB) of colours in [0, 1] over the pixels of ``mask`` (all if None); NaN if empty."""
    err = ((pred - gt) ** 2).mean(-1)
    if mask is not None:
        err = err[mask]
    if err.numel() == 0:
        return math.nan
    return float(-10 * torch.log10(err.mean().clamp_min(1e-10)))


def ssim(pred: Tensor, gt: Tensor) -> float:
    """Mean SSIM of two (H, W, 3) images in [0, 1]."""
    x = torch.linspace(-5, 5, 11)
    g = torch.exp(-(x**2) / (2 * 1.5**2))
    g = (g / g.sum())[:, None] * (g / g.sum())[None, :]
    win = g.expand(3, 1, 11, 11)

    def blur(z: Tensor) -> Tensor:
        return F.conv2d(z, win, groups=3)

    a, b = pred.permute(2, 0, 1)[None], gt.permute(2, 0, 1)[None]
    mu_a, mu_b = blur(a), blur(b)
    va, vb = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2))
    return float(s.mean())


def edge_band(depth: Tensor, instance: Tensor, jump: float = 0.1) -> Tensor:
    """Pixels next to a GT depth jump (> ``jump`` m) or an instance boundary, (H, W) bool."""
    band = torch.zeros_like(depth, dtype=torch.bool)
    rows = (depth.diff(dim=0).abs() > jump) | (instance.diff(dim=0) != 0)
    cols = (depth.diff(dim=1).abs() > jump) | (instance.diff(dim=1) != 0)
    band[1:] |= rows
    band[:-1] |= rows
    band[:, 1:] |= cols
    band[:, :-1] |= cols
    return band


def depth_l1(pred: Tensor, gt: Tensor, instance: Tensor) -> float:
    """Mean |depth error| (m) outside the 1-pixel band at GT edges."""
    keep = ~edge_band(gt, instance)
    return float((pred - gt).abs()[keep].mean())


def panoptic(
    pred_inst: list[Tensor], gt_inst: list[Tensor], pred_sem: list[Tensor], gt_sem: list[Tensor]
) -> dict[str, float]:
    """PQ over the views (segments = instance ids, background included as stuff) and mIoU."""
    iou_sum, tp, fp, fn = 0.0, 0, 0, 0
    inter: dict[int, int] = {}
    union: dict[int, int] = {}
    for pi, gi, ps, gs in zip(pred_inst, gt_inst, pred_sem, gt_sem, strict=True):
        matched_pred = set()
        for g in gi.unique().tolist():
            gm = gi == g
            g_cls = int(gs[gm][0])
            best = None
            for p in pi[gm].unique().tolist():
                pm = pi == p
                if int(ps[pm].mode().values) != g_cls:
                    continue
                iou = float((pm & gm).sum() / (pm | gm).sum())
                if iou > 0.5:
                    best = (p, iou)
            if best is None:
                fn += 1
            else:
                tp, iou_sum = tp + 1, iou_sum + best[1]
                matched_pred.add(best[0])
        fp += len(set(pi.unique().tolist()) - matched_pred)
        for c in gs.unique().tolist():
            inter[c] = inter.get(c, 0) + int(((ps == c) & (gs == c)).sum())
            union[c] = union.get(c, 0) + int(((ps == c) | (gs == c)).sum())
    pq = iou_sum / max(tp + 0.5 * fp + 0.5 * fn, 1e-9)
    miou = sum(inter[c] / union[c] for c in inter) / max(len(inter), 1)
    return {"pq": pq, "miou": miou}


def instance_iou(pred: list[Tensor], gt: list[Tensor], node_id: int) -> float:
    """IoU of one instance's pixels over the views."""
    i = sum(int(((p == node_id) & (g == node_id)).sum()) for p, g in zip(pred, gt, strict=True))
    u = sum(int(((p == node_id) | (g == node_id)).sum()) for p, g in zip(pred, gt, strict=True))
    return i / u if u else math.nan


def edit_region(edited, unedited) -> Tensor:
    """Pixels where the edited GT view differs from the unedited one (instance or colour)."""
    differs = (edited.rgb - unedited.rgb).abs().amax(-1) > 1e-3
    return differs | (edited.instance != unedited.instance)


def pooled_psnr(preds: list[Tensor], gts: list[Tensor], masks: list[Tensor]) -> float:
    """PSNR over the union of masked pixels of several views."""
    err = torch.cat([((p - g) ** 2).mean(-1)[m] for p, g, m in zip(preds, gts, masks, strict=True)])
    return float(-10 * torch.log10(err.mean().clamp_min(1e-10))) if err.numel() else math.nan
