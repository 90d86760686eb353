"""Variance-preserving diffusion in log-SNR form.

``x_t = α_t x + σ_t ε`` with ``λ_t = log(α_t²/σ_t²)``, ``α_t² = sigmoid(λ_t)`` and
``σ_t² = sigmoid(−λ_t)`` (paper §2; Kingma et al. 2021 notation). Time ``u ∈ [0, 1]`` maps to
``λ`` by the truncated cosine schedule ``λ(u) = −2 log tan(a u + b)`` with ``λ(0) = λ_max`` and
``λ(1) = λ_min``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def log_snr(u: jax.Array, lambda_min: float = -10.0, lambda_max: float = 10.0) -> jax.Array:
    """Truncated cosine log-SNR schedule ``λ(u)``, decreasing from ``λ_max`` (u=0) to ``λ_min``."""
    b = jnp.arctan(jnp.exp(-0.5 * lambda_max))
    a = jnp.arctan(jnp.exp(-0.5 * lambda_min)) - b
    return -2.0 * jnp.log(jnp.tan(a * u + b))


def alpha_sigma(lam: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(α, σ)`` of a VP process at log-SNR ``λ``: ``α² = sigmoid(λ)``, ``σ² = sigmoid(−λ)``."""
    return jnp.sqrt(jax.nn.sigmoid(lam)), jnp.sqrt(jax.nn.sigmoid(-lam))


def expand(a: jax.Array, x: jax.Array) -> jax.Array:
    """Reshape a per-example ``(B,)`` array to broadcast against ``x`` of shape ``(B, ...)``."""
    return a.reshape(a.shape + (1,) * (x.ndim - a.ndim))
