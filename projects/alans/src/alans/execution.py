"""Operator execution, decoding by distance, and JSD answer scoring (ALANS ``execute.py``,
``criteria.py``, ``model.loss_mean``; our own code).

Execution predicts the 9th panel's representation M̂_9 under each induced operator:
  unary T M̄_8;  ltr M̄_7 T M̄_8;  rtl M̂_9 = M̄_7 W^T (W W^T)^-1 with W = T M̄_8 (solves
  M̄_7 = M̂_9 T M̄_8 in least squares);  ternary T [M̄_6; M̄_4] (left) or T [M̄_6; M̄_5] (right).
Decoding ("answer generation by isomorphism"): q_op(v) = softmax(-s_pred ||M̂_9 - M(v)||_F^2).
Answer score: s(c) = - sum_attr sum_op p(op) JSD(q_op, P_c^attr).
"""

from __future__ import annotations

import torch

from .induction import TERNARY, _bilinear_features, _neighbourhood

EPS = 1e-8  # log epsilon of the official code
PINV_EPS = 1e-9  # relative Tikhonov term of the rtl right pseudo-inverse (avoids singular solves)
D2_MAX = 1e3  # clamp of squared decode distances (keeps the decode softmax finite)


def execute_int(Ts: list[torch.Tensor], Mb: torch.Tensor) -> torch.Tensor:
    """Predicted M̂_9 per family. Ts from ``induce_int``; Mb (B, >=8, 2, 2) -> (B, 5, 2, 2)."""
    T_un, T_ltr, T_rtl, T_l, T_r = Ts
    M7, M8 = Mb[:, 6], Mb[:, 7]
    W = T_rtl @ M8
    WWt = W @ W.transpose(1, 2)
    tr = WWt.diagonal(dim1=1, dim2=2).sum(-1)[:, None, None]
    WWt = WWt + (PINV_EPS * tr + 1e-30) * torch.eye(2, dtype=W.dtype)
    rtl = torch.linalg.solve(WWt, (M7 @ W.transpose(1, 2)).transpose(1, 2)).transpose(1, 2)
    preds = [T_un @ M8, M7 @ T_ltr @ M8, rtl]
    for T, direction in ((T_l, "left"), (T_r, "right")):
        (a, b), _ = TERNARY[direction][5]
        preds.append(T @ torch.cat([Mb[:, a], Mb[:, b]], dim=1))
    return torch.stack(preds, 1)


def execute_position(Ts: list[torch.Tensor], E: torch.Tensor) -> torch.Tensor:
    """Predicted per-slot exist representations. E (B, >=8, S, 2, 2) -> (B, 4, S, 2, 2)."""
    T_un, W_bin, T_l, T_r = Ts
    B, _, S = E.shape[:3]
    nb = _neighbourhood(E)[:, 7]  # (B, S, 6, 2)
    preds = [torch.einsum("brp,bspq->bsrq", T_un, nb)]
    f = _bilinear_features(E[:, 6], E[:, 7])  # (B, S, 16, 1)
    preds.append(torch.einsum("brp,bspq->bsrq", W_bin, f).reshape(B, S, 2, 2))
    for T, direction in ((T_l, "left"), (T_r, "right")):
        (a, b), _ = TERNARY[direction][5]
        X = torch.cat([E[:, a], E[:, b]], dim=2)  # (B, S, 4, 2)
        preds.append(torch.einsum("brp,bspq->bsrq", T, X))
    return torch.stack(preds, 1)


def decode(pred: torch.Tensor, values: torch.Tensor, scale: float) -> torch.Tensor:
    """q(v) = softmax(-scale ||pred - M(v)||_F^2).

    pred (..., 2, 2), values (V, 2, 2) -> (..., V).
    """
    d2 = (pred.unsqueeze(-3) - values).pow(2).sum((-2, -1)).clamp(max=D2_MAX)
    return torch.softmax(-scale * d2, dim=-1)


def jsd(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence over the last axis (natural log, official log epsilon)."""
    m = 0.5 * (p + q)
    lm = torch.log(m + EPS)
    return 0.5 * (p * (torch.log(p + EPS) - lm)).sum(-1) + 0.5 * (
        q * (torch.log(q + EPS) - lm)
    ).sum(-1)


def attribute_score(
    post: torch.Tensor, q: torch.Tensor, cands: torch.Tensor, rule_prob: torch.Tensor | None = None
) -> torch.Tensor:
    """-sum_op p(op) JSD(q_op, P_c) for one attribute.

    post (B, O), q (B, O, V), cands (B, 8, V) (or q (B, O, S, 2), cands (B, 8, S, 2) for the
    per-slot exist distributions); rule_prob (B,) is the scene engine's
    consistency: p(op) is scaled by it and (1 - rule_prob) goes to an "inconsistent" operator
    with a uniform prediction. Returns (B, 8).
    """
    if rule_prob is not None:
        post = torch.cat([post * rule_prob[:, None], 1 - rule_prob[:, None]], 1)
        q = torch.cat([q, torch.full_like(q[:, :1], 1.0 / q.shape[-1])], 1)
    d = jsd(q.unsqueeze(2), cands.unsqueeze(1).to(q.dtype))  # (B, O, 8[, S])
    d = d.flatten(3).mean(-1) if d.dim() > 3 else d  # Position: mean of the per-slot JSDs
    return -(post.unsqueeze(2) * d).sum(1)


def predicted_distribution(post: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Answer generation: the posterior mixture sum_op p(op) q_op(v), (B, V)."""
    return (post.unsqueeze(-1) * q).sum(1)
