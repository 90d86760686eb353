"""Object-based probabilistic perception (ALANS ``network.py`` + ``scene.py``; our own code).

Four separate LeNets, one per attribute (exist 2, type 5, size 6, color 10 classes), read each
slot crop (32x32, raw 0..255 grey values, no normalisation: BN absorbs the scale). The scene
inference engine turns per-slot distributions into panel-level distributions:

  P(pattern) ∝ prod_s p_s(exist)^x_s (1 - p_s(exist))^(1 - x_s)  over the 2^S - 1 non-empty patterns
  P(Number = n) = sum_{|pattern| = n} P(pattern)
  P(t) = sum_pattern P(pattern) prod_{s in pattern} p_s(t)        ("consistent" value t)
  P(inconsistent) = 1 - sum_t P(t);  rule_prob = min over the 8 context panels of sum_t P(t)
"""

from __future__ import annotations

from itertools import product

import torch
import torch.nn.functional as F
from torch import nn

ATTR_CLASSES = {"exist": 2, "type": 5, "size": 6, "color": 10}
TSC = ("type", "size", "color")


class LeNet(nn.Module):
    """conv 1->6 (5x5)+BN+softplus+pool, conv 6->16 (5x5)+BN+softplus+pool, FC 400-120-84-K."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6)
        self.conv2, self.bn2 = nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16)
        self.fc = nn.Sequential(
            nn.Linear(400, 120),
            nn.Softplus(),
            nn.Linear(120, 84),
            nn.Softplus(),
            nn.Linear(84, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, 1, 32, 32) -> log-probabilities (N, K)."""
        h = F.max_pool2d(F.softplus(self.bn1(self.conv1(x))), 2)  # (N, 6, 14, 14)
        h = F.max_pool2d(F.softplus(self.bn2(self.conv2(h))), 2)  # (N, 16, 5, 5)
        return F.log_softmax(self.fc(h.flatten(1)), dim=-1)


class ObjectCNN(nn.Module):
    """One LeNet per attribute; returns per-slot log-probabilities for every attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs = tuple(ATTR_CLASSES)
        self.nets = nn.ModuleList(LeNet(k) for k in ATTR_CLASSES.values())

    def forward(
        self, crops: torch.Tensor, attrs: tuple[str, ...] | None = None
    ) -> dict[str, torch.Tensor]:
        """crops (N, 1, 32, 32) -> {attr: (N, K_attr) log-probabilities} for ``attrs`` (default:
        all four); a LeNet whose attribute is not asked for does not run."""
        want = self.attrs if attrs is None else attrs
        return {a: net(crops) for a, net in zip(self.attrs, self.nets, strict=True) if a in want}


def _patterns(S: int, device: torch.device) -> torch.Tensor:
    """All 2^S - 1 non-empty occupancy patterns, (n_pat, S) float, slot s = bit s."""
    pats = [p[::-1] for p in product((0, 1), repeat=S) if any(p)]
    return torch.tensor(pats, dtype=torch.float32, device=device)


def scene_engine(logp: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per-slot log-probs {attr: (B, P, S, K)} -> panel-level distributions.

    Returns: ``number`` (B, P, S) over counts 1..S; ``exist`` (B, P, S, 2) per-slot marginals
    under the non-empty-pattern posterior; for Type/Size/Color the normalised consistent value
    distribution (B, P, V) and ``<attr>_rule_prob`` (B,) = min over the 8 context panels.
    Without an ``exist`` entry (Center: one slot, never empty) the only pattern is "occupied"
    with P = 1 and no ``number`` / ``exist`` is returned.
    """
    out: dict[str, torch.Tensor] = {}
    if "exist" in logp:
        pe = logp["exist"].exp()[..., 1]  # (B, P, S) probability that the slot is occupied
        S = pe.shape[-1]
        pats = _patterns(S, pe.device)  # (n_pat, S)
        lik = pe.unsqueeze(-2) * pats + (1 - pe.unsqueeze(-2)) * (1 - pats)  # (B, P, n_pat, S)
        w = lik.prod(-1)
        w = w / w.sum(-1, keepdim=True).clamp_min(1e-12)  # P(pattern), (B, P, n_pat)
        counts = pats.sum(-1).long() - 1
        out["number"] = torch.zeros(*w.shape[:2], S, device=w.device).index_add(2, counts, w)
        marg = torch.einsum("bpn,ns->bps", w, pats)
        out["exist"] = torch.stack([1 - marg, marg], -1)
    else:
        B, P, S = logp["type"].shape[:3]
        if S != 1:
            raise ValueError(f"scene_engine: 'exist' is needed for {S} slots")
        pats = torch.ones(1, 1, device=logp["type"].device)
        w = torch.ones(B, P, 1, device=pats.device)
    for a in TSC:
        p = logp[a].exp()  # (B, P, S, V)
        # prod over occupied slots of p_s(t): slots outside the pattern contribute a factor 1
        per = pats[None, None, :, :, None] * p.unsqueeze(2) + (1 - pats)[None, None, :, :, None]
        Pt = (w.unsqueeze(-1) * per.prod(3)).sum(2)  # (B, P, V)
        cons = Pt.sum(-1)  # (B, P)
        out[a] = Pt / cons.unsqueeze(-1).clamp_min(1e-12)
        out[f"{a}_rule_prob"] = cons[:, :8].min(1).values
    return out
