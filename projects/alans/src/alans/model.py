"""ALANS: the algebraic reasoning backend and the full pixel model (ALANS ``model.py``).

Backend input: panel-level attribute distributions for the 16 panels (8 context + 8
candidates), from ground truth (Tier A) or from the perception + scene engine (Tier B).
Per attribute: expected representations M̄ (``algebra``), closed-form operator induction and
residuals (``induction``), operator posterior p(op) = softmax(-s l_op), execution + decoding
q_op (``execution``), candidate scores s(c) = -sum_attr sum_op p(op) JSD(q_op, P_c).
Loss (``loss_mean``): CE(s, y) + aux * sum_attr CE(p(op), op_gt).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .algebra import IndependentSystem, NumberSystem, expected_representation
from .execution import (
    EPS,
    attribute_score,
    decode,
    execute_int,
    execute_position,
    predicted_distribution,
)
from .induction import induce_int, induce_position, operator_posterior
from .perception import ObjectCNN, scene_engine

TSC = ("type", "size", "color")


@dataclass
class Hyper:
    """Inner-optimisation constants (``const.py``: INNER_REG, *_SOFTMAX_SCALE)."""

    lam: tuple[tuple[str, float], ...] = (
        ("exist", 1e-4),
        ("number", 1e-6),
        ("type", 1e-6),
        ("size", 1e-6),
        ("color", 5e-7),
    )
    action_scale: float = 1e4  # Type/Size/Color; Number uses 1e4 * 1e-5, Exist uses 1
    number_scale: float = 0.1
    exist_scale: float = 1.0
    pred_scale: float = 1e3
    exist_pred_scale: float = 1.0  # the official exist decode has no scale
    select_scale: float = 1e3  # Position-vs-Number selection softmax (scale not documented)


class ALANSBackend(nn.Module):
    """Reasoning backend with M(k) = M^k Z (``independent=False``) or ALANS-Ind tables."""

    def __init__(self, hyper: Hyper | None = None, independent: bool = False) -> None:
        super().__init__()
        self.h = hyper or Hyper()
        self.lam = dict(self.h.lam)
        self.system = IndependentSystem() if independent else NumberSystem()

    def _int_attr(self, P: torch.Tensor, values: torch.Tensor, lam: float, scale: float):
        """P (B, 16, V) -> posterior (B, 5), decoded predictions q (B, 5, V)."""
        V = P.shape[-1]
        Mb = expected_representation(P[:, :8], values)  # (B, 8, 2, 2)
        Ts, losses = induce_int(Mb, lam)
        q = decode(execute_int(Ts, Mb), values[:V], self.h.pred_scale)
        return operator_posterior(losses, scale), q, losses

    def forward(self, dists: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """dists: {type,size,color: (B,16,V)} (+ ``<attr>_rule_prob`` (B,)) and, for the Grid,
        ``number`` (B,16,4) and ``exist`` (B,16,S,2). Returns scores (B, 8), posteriors,
        answer-generation distributions ``pred_<attr>``."""
        values = self.system.values()  # update_spaces(): recompute M^k Z every call
        out: dict[str, torch.Tensor] = {}
        score = 0.0
        for a in TSC:
            P = dists[a].to(torch.float64)
            post, q, _ = self._int_attr(P, values, self.lam[a], self.h.action_scale)
            rp = dists.get(f"{a}_rule_prob")
            rp = None if rp is None else rp.to(torch.float64)
            score = score + attribute_score(post, q, P[:, 8:], rp)
            out[f"post_{a}"] = (
                post if rp is None else torch.cat([post * rp[:, None], 1 - rp[:, None]], 1)
            )
            out[f"pred_{a}"] = predicted_distribution(post, q)
        if "number" in dists:
            Pn = dists["number"].to(torch.float64)
            post_n, q_n, l_n = self._int_attr(Pn, values, self.lam["number"], self.h.number_scale)
            Pe = dists["exist"].to(torch.float64)  # (B, 16, S, 2)
            logic = self.system.logic
            E = torch.einsum("bpsv,vij->bpsij", Pe[:, :8], logic)  # expected exist representation
            Ts, l_e = induce_position(E, self.lam["exist"])
            q_e = decode(execute_position(Ts, E), logic, self.h.exist_pred_scale)  # (B, 4, S, 2)
            post_e = operator_posterior(l_e, self.h.exist_scale)
            # Which explains the panels better: a Position rule or a Number rule?
            sel = torch.softmax(
                -self.h.select_scale * torch.stack([l_e.min(1).values, l_n.min(1).values], 1), 1
            )
            s_pos = attribute_score(post_e, q_e, Pe[:, 8:])
            s_num = attribute_score(post_n, q_n, Pn[:, 8:])
            score = score + sel[:, :1] * s_pos + sel[:, 1:] * s_num
            out.update(post_exist=post_e, post_number=post_n, select=sel)
            out["pred_number"] = predicted_distribution(post_n, q_n)
            out["pred_exist"] = (post_e[:, :, None, None] * q_e).sum(1)
        out["score"] = score
        return out


def alans_loss(
    out: dict[str, torch.Tensor],
    target: torch.Tensor,
    labels: torch.Tensor,
    on_position: torch.Tensor | None,
    aux: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """CE(s, y) + aux * sum_attr CE(p(op), op_gt). labels (B, 4): numpos, type, size, color.

    Returns (total loss, answer CE).
    """
    ce = F.cross_entropy(out["score"], target)
    aux_loss = 0.0
    for k, a in enumerate(TSC, start=1):
        p = out[f"post_{a}"]
        aux_loss = aux_loss + F.nll_loss(torch.log(p + EPS), labels[:, k])
    if "post_exist" in out and on_position is not None:
        pos = on_position.bool()
        lp_e = torch.log(out["post_exist"] + EPS)
        lp_n = torch.log(out["post_number"] + EPS)
        lab = labels[:, 0]
        per = torch.where(
            pos,
            -lp_e.gather(1, lab.clamp(max=3)[:, None])[:, 0],
            -lp_n.gather(1, lab[:, None])[:, 0],
        )
        aux_loss = aux_loss + per.mean()
    return ce + aux * aux_loss, ce


class ALANS(nn.Module):
    """Full pixel model: ObjectCNN perception -> scene engine -> ALANSBackend."""

    def __init__(self, hyper: Hyper | None = None, independent: bool = False) -> None:
        super().__init__()
        self.perception = ObjectCNN()
        self.backend = ALANSBackend(hyper, independent)

    def perceive(self, crops: torch.Tensor) -> dict[str, torch.Tensor]:
        """crops (B, 16, S, 32, 32) uint8/float -> scene-engine distributions.

        Center (S = 1): the one slot is always occupied, so Number/Position carry no
        information; the exist LeNet is not run and no Number/exist distribution is formed
        (issue 17 item 7: the backend never read them).
        """
        B, P, S = crops.shape[:3]
        attrs = TSC if S == 1 else None
        logp = self.perception(crops.reshape(B * P * S, 1, *crops.shape[-2:]).float(), attrs)
        return scene_engine({a: v.reshape(B, P, S, -1) for a, v in logp.items()})

    def forward(self, crops: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.backend(self.perceive(crops))
