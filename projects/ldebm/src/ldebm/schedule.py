"""The latent diffusion noise schedule of LDEBM (official ``_get_sigma_schedule``).

T levels use T+1 noise factors: betas ``linspace(1e-4, 0.02, 1000)`` (plus β=1 appended), the
subsampled indices ``arange(T)·(1000 // (2(T−1)))`` and 999; a_s[i] = ∏ √(1−β) over segment i,
σ_i = √(1 − a_s[i]²); cumulative ā_t = ∏_{j≤t} a_s[j], σ̄_t = √(1 − ā_t²) (standard DDPM, each
a_s already being a product of √(1−β)). Level t (0 ≤ t < T) models z_t given z_{t+1} =
a_s[t+1]·z_t + σ_{t+1}·ε; the top level t = T−1 has no anchor (``is_recovery`` = 0), i.e. a
marginal EBM with an N(0, σ_T² I) reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Schedule:
    """Per-level coefficients as float32 tensors of length T+1 (index i ↔ noise factor i)."""

    T: int
    a_s: torch.Tensor  # a_s[i]: scaling of x between levels i−1 and i
    sigmas: torch.Tensor  # σ_i = √(1 − a_s[i]²)
    a_s_cum: torch.Tensor  # ā_i = ∏_{j ≤ i} a_s[j]
    sigmas_cum: torch.Tensor  # σ̄_i = √(1 − ā_i²)
    a_s_prev: torch.Tensor  # a_s with the last entry set to 1
    is_recovery: torch.Tensor  # 1 except at index T (top level: no anchor)
    step_size_sq: torch.Tensor  # s_t² = c_t² · step · σ_{t+1}², length T (one per level t)

    def loss_scale(self, t: torch.Tensor) -> torch.Tensor:
        """Per-level weight σ_1 / σ_{t+1} of the contrastive loss and the prior term."""
        return self.sigmas[1] / self.sigmas[t + 1]


def noise_factors(T: int) -> tuple[np.ndarray, np.ndarray]:
    """(a_s, σ) of length T+1 in float64, exactly as the official code computes them."""
    if T < 2:
        raise ValueError(f"the diffusion needs T >= 2 levels, got {T}")
    betas = np.append(np.linspace(1e-4, 0.02, 1000, dtype=np.float64), 1.0)
    sqrt_alphas = np.sqrt(1.0 - betas)
    idx = np.concatenate([np.arange(T) * (1000 // ((T - 1) * 2)), [999]])
    a_s = [np.prod(sqrt_alphas[: idx[0] + 1])]
    a_s += [np.prod(sqrt_alphas[idx[i - 1] + 1 : idx[i] + 1]) for i in range(1, len(idx))]
    a_s = np.asarray(a_s)
    return a_s, np.sqrt(1.0 - a_s**2)


def make_schedule(T: int, step_size: float) -> Schedule:
    """The schedule and the recovery-Langevin step sizes s_t² = (σ̄_t / σ̄_0)·step·σ_{t+1}²
    (c_t² = σ̄_t/σ̄_0, not squared, as in the official ``_p_sample_langevin``)."""
    a_s, sigmas = noise_factors(T)
    a_cum = np.cumprod(a_s)
    sig_cum = np.sqrt(1.0 - a_cum**2)
    a_prev = a_s.copy()
    a_prev[-1] = 1.0
    is_rec = np.ones(T + 1)
    is_rec[-1] = 0.0
    t = np.arange(T)
    step_sq = sig_cum[t] / sig_cum[0] * step_size * sigmas[t + 1] ** 2

    def f32(v: np.ndarray) -> torch.Tensor:
        return torch.tensor(v, dtype=torch.float32)

    return Schedule(
        T, f32(a_s), f32(sigmas), f32(a_cum), f32(sig_cum), f32(a_prev), f32(is_rec), f32(step_sq)
    )
