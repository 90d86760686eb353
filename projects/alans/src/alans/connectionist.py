"""Connectionist baselines on the same ground-truth attributes as Tier A (issue 17, item 1).

Every model scores each of the 8 candidates by completing the 3x3 matrix with it (9 panels:
8 context + the candidate) and is trained with cross-entropy over the 8 scores, like the flat
``baselines.ContrastiveMLP`` (kept as the reference). Inputs are per-panel *value codes* of
each attribute (``value_codes``), so the value encoding is a choice of its own:

* ``onehot``: e_v in R^10 (Type, Size and Color share one index space). A value never seen in
  training has a first-layer weight that never receives a gradient.
* ``thermometer``: t_k = 1[v >= k], k = 1..9 (ordered; a higher unseen value still switches
  on every lower bit that training did see).
* ``scalar``: v / 9 (ordered, one number; linear relations such as Progression and Arithmetic
  keep their form for unseen values).

Models:

* ``FactoredRelationNet``: one relation MLP g, *shared* by Type, Size and Color (and Number on
  the Grid), reads the 9 codes of one attribute and returns a score; the candidate's score is
  the sum over attributes, s(c) = sum_a g(x_{a,1..8}, x_{a,c}) (+ a Position relation MLP on
  the Grid's occupancy bits). This is SCL (Wu et al. 2020) with the attribute grouping given:
  it can share a relation across attributes and add per-attribute evidence, which ALANS's
  scorer does by construction and the flat MLP cannot.
* ``PanelTransformer``: the 9 panels as a token sequence (token = concatenated codes of every
  attribute + a learned position embedding), a small Transformer encoder, mean-pooled to a
  score.
"""

from __future__ import annotations

import torch
from torch import nn

from .data import symbolic_inputs

ENCODINGS = ("onehot", "thermometer", "scalar")
CODE_DIM = {"onehot": 10, "thermometer": 9, "scalar": 1}
K = 10  # values of the largest attribute (Color)


def encode_values(v: torch.Tensor, encoding: str) -> torch.Tensor:
    """Integer values v (...,) in 0..9 -> codes (..., CODE_DIM[encoding]) float32."""
    if encoding == "onehot":
        return nn.functional.one_hot(v, K).float()
    if encoding == "thermometer":
        return (v[..., None] >= torch.arange(1, K)).float()
    if encoding == "scalar":
        return v[..., None].float() / (K - 1)
    raise ValueError(f"unknown value encoding {encoding!r}; choose from {', '.join(ENCODINGS)}")


def value_codes(data: dict, encoding: str) -> dict[str, torch.Tensor]:
    """Per-attribute codes of the 16 panels: type/size/color (and number) (N, 16, D); on the
    Grid also ``position`` (N, 16, S) occupancy bits (binary in every encoding)."""
    x = symbolic_inputs(data)
    codes = {a: encode_values(x[a].argmax(-1), encoding) for a in ("type", "size", "color")}
    if "exist" in x:
        codes["number"] = encode_values(x["number"].argmax(-1), encoding)
        codes["position"] = x["exist"][..., 1].float()
    return codes


def complete_matrix(x: torch.Tensor) -> torch.Tensor:
    """(B, 16, D) -> (B, 8, 9 D): the 8 context panels followed by each candidate, flattened."""
    B, _, D = x.shape
    ctx = x[:, None, :8].expand(B, 8, 8, D)
    return torch.cat([ctx, x[:, 8:, None]], 2).flatten(2)


def _mlp(d_in: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_in, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 1),
    )


class FactoredRelationNet(nn.Module):
    """s(c) = sum_a g(9 codes of attribute a) with one g shared by every integer attribute."""

    def __init__(self, encoding: str, hidden: int = 128, n_slots: int = 1) -> None:
        super().__init__()
        self.relation = _mlp(9 * CODE_DIM[encoding], hidden)
        self.position = _mlp(9 * n_slots, hidden) if n_slots > 1 else None

    def forward(self, codes: dict[str, torch.Tensor]) -> torch.Tensor:
        """codes: ``value_codes`` of a batch -> scores (B, 8)."""
        score = sum(
            self.relation(complete_matrix(v)).squeeze(-1)
            for a, v in codes.items()
            if a != "position"
        )
        if self.position is not None:
            score = score + self.position(complete_matrix(codes["position"])).squeeze(-1)
        return score


class PanelTransformer(nn.Module):
    """Transformer encoder over the 9 panel tokens of each completed matrix -> a score."""

    def __init__(
        self, encoding: str, n_slots: int = 1, d: int = 32, heads: int = 4, layers: int = 1
    ) -> None:
        super().__init__()
        grid = n_slots > 1
        n_int = 4 if grid else 3
        self.embed = nn.Linear(n_int * CODE_DIM[encoding] + (n_slots if grid else 0), d)
        self.pos = nn.Parameter(0.02 * torch.randn(9, d))
        layer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, 1)

    def forward(self, codes: dict[str, torch.Tensor]) -> torch.Tensor:
        """codes: ``value_codes`` of a batch -> scores (B, 8)."""
        tokens = torch.cat([codes[a] for a in sorted(codes)], -1)  # (B, 16, F)
        B, _, F = tokens.shape
        seq = complete_matrix(tokens).reshape(B * 8, 9, F)
        h = self.encoder(self.embed(seq) + self.pos)  # (B * 8, 9, d)
        return self.head(h.mean(1)).reshape(B, 8)
