"""Algebraic value representations (ALANS ``attr.py``, our own code).

* ``NumberSystem``: one shared learned 2x2 system for every integer attribute,
  **M(k) = M^k Z**, k = 0..K-1 (K = max |V| = 10), with learnable Z, M in R^{2x2}.
  Each attribute uses the first |V| entries. This is what lets unseen values extrapolate.
* ``IndependentSystem`` (the ALANS-Ind ablation): a free 2x2 matrix per value.
* ``logic``: two free 2x2 matrices for the boolean exist value (absent, present).

All parameters are float64: the note shows |eig M| ~ 0.34 in the official starters, so
||M^k Z|| shrinks geometrically and float32 distances between high values underflow the
decode softmax.
"""

from __future__ import annotations

import math

import torch
from torch import nn

D = 2  # MATRIX_SIZE
K_VALUES = 10  # int_size = max(|Number|, |Type|, |Size|, |Color|)


class NumberSystem(nn.Module):
    """M(k) = M^k Z (ALANS). ``values()`` -> (K, 2, 2); call it once per training step."""

    def __init__(self, n_values: int = K_VALUES) -> None:
        super().__init__()
        self.n_values = n_values
        self.Z = nn.Parameter(torch.randn(D, D, dtype=torch.float64))  # Z ~ N(0, 1)
        M = torch.empty(D, D, dtype=torch.float64)
        nn.init.kaiming_uniform_(M, a=math.sqrt(5))
        self.M = nn.Parameter(M)
        self.logic = nn.Parameter(torch.randn(2, D, D, dtype=torch.float64))  # exist 0 / 1

    def values(self) -> torch.Tensor:
        """(K, 2, 2): [Z, M Z, M^2 Z, ...] (``update_spaces`` in the official code)."""
        out = [self.Z]
        for _ in range(self.n_values - 1):
            out.append(self.M @ out[-1])
        return torch.stack(out)


class IndependentSystem(nn.Module):
    """ALANS-Ind: independent per-value matrices M(k) ~ N(0, 1), no shared generator M."""

    def __init__(self, n_values: int = K_VALUES) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(n_values, D, D, dtype=torch.float64))
        self.logic = nn.Parameter(torch.randn(2, D, D, dtype=torch.float64))

    def values(self) -> torch.Tensor:
        return self.table


def expected_representation(P: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Mean mode: M̄_i = sum_v P_i(v) M(v). P (..., V) -> (..., 2, 2)."""
    return torch.einsum("...v,vij->...ij", P.to(values.dtype), values[: P.shape[-1]])


def value_norms(values: torch.Tensor) -> list[float]:
    """||M(k)||_F for logging the geometric shrinkage hazard."""
    return [float(v) for v in torch.linalg.matrix_norm(values.detach())]
