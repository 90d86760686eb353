"""Closed-form ridge induction of the hidden operator, per problem (ALANS ``inner.py``).

Panels are indexed 0..8 row-major (0..7 = context, 8 = the answer slot). Every solve is a
small batched linear system in float64; nothing here is learned. For an operator family with
fitting samples (X_n -> Y_n) the inner objective is

    l(T) = (1/N) sum_n ||f_T(X_n) - Y_n||_F^2 + lambda ||T||_F^2,

and l(T*) is returned as the family's residual (it feeds the operator posterior).

Families for integer attributes (Type/Size/Color/Number):
  0 unary  (Constant/Progression):  T M̄_i ~ M̄_j on (1,2),(2,3),(4,5),(5,6),(7,8)
           T* = (sum M̄_j M̄_i^T)(sum M̄_i M̄_i^T + 5 lambda I)^-1
  1 ltr    (Arithmetic +):          M̄_1 T M̄_2 ~ M̄_3 on rows 1, 2 (vec / Kronecker trick)
  2 rtl    (Arithmetic -):          M̄_3 T M̄_2 ~ M̄_1 on rows 1, 2
  3/4 ternary (Distribute_Three):   T [M̄_a; M̄_b] ~ M̄_c, T in R^{2x4}, (a, b) from the previous
           row: left (1,2)->4, (2,3)->5, (3,1)->6, (4,5)->7, (5,6)->8, and its mirror (right).
"""

from __future__ import annotations

import torch

UNARY_PAIRS = ((0, 1), (1, 2), (3, 4), (4, 5), (6, 7))
ROWS = ((0, 1, 2), (3, 4, 5))
# Distribute_Three: target panel (r+1, j) from (r, j) and (r, j+1) [left] or (r, j-1) [right].
TERNARY = {
    "left": (((0, 1), 3), ((1, 2), 4), ((2, 0), 5), ((3, 4), 6), ((4, 5), 7), ((5, 3), 8)),
    "right": (((0, 2), 3), ((1, 0), 4), ((2, 1), 5), ((3, 5), 6), ((4, 3), 7), ((5, 4), 8)),
}


def ridge_linear(X: torch.Tensor, Y: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Ridge fit of a left-multiplying map T X_n ~ Y_n.

    X (B, N, p, q), Y (B, N, r, q) -> T* (B, r, p) and l(T*) (B,).
    Normal equations: T (sum X X^T + N lambda I) = sum Y X^T, solved with
    ``torch.linalg.solve`` (A symmetric, so T = solve(A, C^T)^T).
    """
    N, p = X.shape[1], X.shape[2]
    A = torch.einsum("bnpq,bnsq->bps", X, X) + N * lam * torch.eye(p, dtype=X.dtype)
    C = torch.einsum("bnrq,bnpq->brp", Y, X)
    T = torch.linalg.solve(A, C.transpose(1, 2)).transpose(1, 2)
    R = torch.einsum("brp,bnpq->bnrq", T, X) - Y
    loss = R.pow(2).sum((2, 3)).mean(1) + lam * T.pow(2).sum((1, 2))
    return T, loss


def ridge_bilinear(
    A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ridge fit of A_n T B_n ~ C_n for T (2x2), via row-major vec(A T B) = (A ⊗ B^T) vec(T).

    A, B, C (Bt, N, 2, 2) -> T* (Bt, 2, 2), l(T*) (Bt,).
    """
    Bt, N, d, _ = A.shape
    K = torch.einsum("bnik,bnlj->bnijkl", A, B).reshape(Bt, N, d * d, d * d)  # (Bt, N, 4, 4)
    c = C.reshape(Bt, N, d * d)
    lhs = torch.einsum("bnak,bnal->bkl", K, K) + N * lam * torch.eye(d * d, dtype=A.dtype)
    rhs = torch.einsum("bnak,bna->bk", K, c)
    t = torch.linalg.solve(lhs, rhs)  # (Bt, 4)
    R = torch.einsum("bnak,bk->bna", K, t) - c
    loss = R.pow(2).sum(2).mean(1) + lam * t.pow(2).sum(1)
    return t.reshape(Bt, d, d), loss


def _stack(Mb: torch.Tensor, idx: tuple[int, ...]) -> torch.Tensor:
    return Mb[:, list(idx)]


def induce_int(Mb: torch.Tensor, lam: float) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Fit the 5 families to the 8 context representations.

    Mb (B, >=8, 2, 2) -> ([T_unary, T_ltr, T_rtl, T_left, T_right], residuals (B, 5)).
    """
    losses, Ts = [], []
    T, l = ridge_linear(
        _stack(Mb, tuple(i for i, _ in UNARY_PAIRS)),
        _stack(Mb, tuple(j for _, j in UNARY_PAIRS)),
        lam,
    )
    Ts.append(T), losses.append(l)
    a, b, c = (_stack(Mb, tuple(r[k] for r in ROWS)) for k in range(3))
    T, l = ridge_bilinear(a, b, c, lam)  # ltr: M1 T M2 ~ M3
    Ts.append(T), losses.append(l)
    T, l = ridge_bilinear(c, b, a, lam)  # rtl: M3 T M2 ~ M1
    Ts.append(T), losses.append(l)
    for direction in ("left", "right"):
        fit = TERNARY[direction][:5]
        X = torch.cat(
            [_stack(Mb, tuple(p[0] for p, _ in fit)), _stack(Mb, tuple(p[1] for p, _ in fit))],
            dim=2,
        )  # (B, 5, 4, 2)
        T, l = ridge_linear(X, _stack(Mb, tuple(t for _, t in fit)), lam)
        Ts.append(T), losses.append(l)
    return Ts, torch.stack(losses, 1)


# ---- Position (exist) families, per slot with the logic matrices -------------------------------


def _neighbourhood(E: torch.Tensor) -> torch.Tensor:
    """(B, P, S, 2, 2) -> (B, P, S, 6, 2): [E_{s-1}; E_s; E_{s+1}] cyclically over slots."""
    return torch.cat([E.roll(1, dims=2), E, E.roll(-1, dims=2)], dim=3)


def _flat_slots(x: torch.Tensor) -> torch.Tensor:
    """(B, N, S, p, q) -> (B, N * S, p, q): every slot is one more fitting sample."""
    return x.reshape(x.shape[0], -1, *x.shape[3:])


def _bilinear_features(E1: torch.Tensor, E2: torch.Tensor) -> torch.Tensor:
    """vec(E1) ⊗ vec(E2) as a (…, 16, 1) column: set union / difference is bilinear in it."""
    f = torch.einsum("...a,...b->...ab", E1.flatten(-2), E2.flatten(-2))
    return f.flatten(-2).unsqueeze(-1)


def induce_position(E: torch.Tensor, lam: float) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Fit the 4 exist families to per-slot representations E (B, >=8, S, 2, 2).

    0 unary: T [E_{s-1}; E_s; E_{s+1}] ~ E'_s, T in R^{2x6} (cyclic shift / constant);
    1 binary: vec(E3_s) ~ W (vec E1_s ⊗ vec E2_s), W in R^{4x16} (union / difference);
    2/3 ternary left / right: T [E_a,s; E_b,s] ~ E_c,s, T in R^{2x4}.
    Returns (operators, residuals (B, 4)).
    """
    Ts, losses = [], []
    nb = _neighbourhood(E)
    src, dst = [i for i, _ in UNARY_PAIRS], [j for _, j in UNARY_PAIRS]
    T, l = ridge_linear(_flat_slots(nb[:, src]), _flat_slots(E[:, dst]), lam)
    Ts.append(T), losses.append(l)
    a, b, c = ([r[k] for r in ROWS] for k in range(3))
    X = _bilinear_features(E[:, a], E[:, b])  # (B, 2, S, 16, 1)
    Y = E[:, c].flatten(-2).unsqueeze(-1)  # (B, 2, S, 4, 1)
    T, l = ridge_linear(_flat_slots(X), _flat_slots(Y), lam)
    Ts.append(T), losses.append(l)
    for direction in ("left", "right"):
        fit = TERNARY[direction][:5]
        X = torch.cat([E[:, [p[0] for p, _ in fit]], E[:, [p[1] for p, _ in fit]]], dim=3)
        T, l = ridge_linear(_flat_slots(X), _flat_slots(E[:, [t for _, t in fit]]), lam)
        Ts.append(T), losses.append(l)
    return Ts, torch.stack(losses, 1)


def operator_posterior(losses: torch.Tensor, scale: float) -> torch.Tensor:
    """p(op) = softmax(-scale * l_op) (``ACTION_SOFTMAX_SCALE``)."""
    return torch.softmax(-scale * losses, dim=-1)
