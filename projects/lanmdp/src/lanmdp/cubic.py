"""The cubic-curve path-planning task: state-only sequences and the exact validity checker.

A path is 21 states s_t = (y_t, x_t) with x_t = −1 + 0.1·t. The environment is the official
``real_env``: y' = y + a, x' = x + 0.1, with the action a ∈ [−0.5, 0.5] hidden from the learner.
The data are cubics y = c3·x³ + c2·x² + c1·x + c0 (the non-Markovian constraint: the next step
depends on the last four points, not on the current state alone). Only (y, x) is stored; the
true actions a*_t = y_{t+1} − y_t are kept for diagnostics (never for LanMDP's learning).

Validity (design risk 1 of the note): a path is a *valid cubic* when the least-squares cubic fit
has |c3| ≥ ``c3_min`` **and** mean absolute fit residual ≤ ``tau``. The official ``plot_curve``
checks |c3| only, which uniform random actions pass about half of the time; that "c3-only" rate
is reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

T = 20  # transitions per path (21 states, x from −1 to 1)
DX = 0.1  # x' = x + 0.1
ACTION_BOX = 0.5  # |a| ≤ δ (official action_delta)
X_GRID = -1.0 + DX * np.arange(T + 1)


@dataclass(frozen=True)
class CurveSpec:
    """The curve-coefficient distribution (not released by the paper; the note's proposal)."""

    c3_min: float = 0.8  # |c3| ~ U[c3_min, c3_max] × random sign (design risk 2: ≥ 0.8)
    c3_max: float = 2.0
    c12: float = 1.0  # c1, c2 ~ U[−c12, c12]
    y_max: float = 2.0  # reject curves leaving |y| ≤ y_max


def sample_curves(n: int, rng: np.random.Generator, spec: CurveSpec = CurveSpec()) -> np.ndarray:
    """``n`` cubic paths as y-values (n, T+1) with y(−1) ~ U[−1, 1]; rejection keeps |Δy| ≤ δ
    (reachable with the action box) and |y| ≤ y_max."""
    out: list[np.ndarray] = []
    while len(out) < n:
        m = 4 * (n - len(out))
        c3 = rng.uniform(spec.c3_min, spec.c3_max, m) * rng.choice([-1.0, 1.0], m)
        c2, c1 = rng.uniform(-spec.c12, spec.c12, (2, m))
        y = c3[:, None] * X_GRID**3 + c2[:, None] * X_GRID**2 + c1[:, None] * X_GRID
        y += rng.uniform(-1.0, 1.0, m)[:, None] - y[:, :1]  # shift c0: y(−1) ~ U[−1, 1]
        ok = (np.abs(np.diff(y, axis=1)).max(1) <= ACTION_BOX) & (np.abs(y).max(1) <= spec.y_max)
        out.extend(y[ok])
    return np.stack(out[:n])


def true_actions(y: np.ndarray) -> np.ndarray:
    """The hidden actions a*_t = y_{t+1} − y_t of paths (…, T+1) → (…, T) (diagnostics only)."""
    return np.diff(y, axis=-1)


def contexts(y: np.ndarray, L: int) -> np.ndarray:
    """State histories of every step t = 0..T−1: (…, T+1) → (…, T, 2L), most recent state first,
    [y_t, x_t, y_{t−1}, x_{t−1}, …]; slots before the start are zero states (y, x) = (0, 0), as
    the official ``TrainingSet`` and validation rollout pad them (a rollout from a fresh y0 sees
    the same padding)."""
    t = np.arange(T)[:, None] - np.arange(L)[None, :]  # (T, L) state index of each slot
    real = t >= 0
    t = np.maximum(t, 0)
    ys = y[..., t] * real  # (…, T, L)
    xs = np.broadcast_to(X_GRID[t] * real, ys.shape)
    return np.stack([ys, xs], axis=-1).reshape(*ys.shape[:-1], 2 * L)


@dataclass(frozen=True)
class CubicFit:
    """Least-squares cubic fit of each path: leading coefficient and mean |residual|."""

    c3: np.ndarray
    residual: np.ndarray

    def valid(self, c3_min: float = 0.5, tau: float = 0.02) -> np.ndarray:
        """The valid-cubic test: |c3| ≥ c3_min and mean |residual| ≤ tau."""
        return (np.abs(self.c3) >= c3_min) & (self.residual <= tau)

    def c3_only(self, c3_min: float = 0.5) -> np.ndarray:
        """The official ``plot_curve`` test: |c3| ≥ c3_min (no residual check)."""
        return np.abs(self.c3) >= c3_min


def fit_cubic(y: np.ndarray) -> CubicFit:
    """Fit y ≈ c3·x³ + c2·x² + c1·x + c0 on the x grid for every path (…, T+1)."""
    X = np.stack([X_GRID**3, X_GRID**2, X_GRID, np.ones_like(X_GRID)], axis=1)  # (T+1, 4)
    flat = y.reshape(-1, T + 1).T  # (T+1, N)
    coef, *_ = np.linalg.lstsq(X, flat, rcond=None)
    residual = np.abs(flat - X @ coef).mean(0)
    shape = y.shape[:-1]
    return CubicFit(coef[0].reshape(shape), residual.reshape(shape))
