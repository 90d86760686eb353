"""Denoising networks and the one-step generator.

Every network here is a v-predictor ``v̂(x_t, λ)`` (Salimans & Ho 2022); the conversions
``x̂ = α x_t − σ v̂`` and ``ε̂ = σ x_t + α v̂`` give the denoiser and the noise predictor, and the
score is ``s = −ε̂/σ``. The teacher ψ, the student score φ and the generator θ share one
architecture: the student and the generator are initialised as copies of the teacher (paper §3.4).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from emd.schedule import alpha_sigma, expand

Params = dict
# apply(params, x_t (B, ...), λ (B,)) -> v̂ (B, ...)
ApplyFn = Callable[[Params, jax.Array, jax.Array], jax.Array]


def fourier_features(lam: jax.Array, n_features: int, scale: float = 20.0) -> jax.Array:
    """Sin/cos features of ``λ/scale`` at frequencies ``π·2^k``: ``(B,) -> (B, n_features)``."""
    freqs = math.pi * 2.0 ** jnp.arange(n_features // 2)  # (F/2,)
    arg = (lam / scale)[:, None] * freqs[None, :]  # (B, F/2)
    return jnp.concatenate([jnp.sin(arg), jnp.cos(arg)], axis=-1)


class Denoiser(nn.Module):
    """MLP v-predictor for flat data ``(B, D)``, conditioned on Fourier features of ``λ``.

    Each hidden layer adds a projection of the noise-level embedding (FiLM-free additive
    conditioning); SiLU activations.
    """

    dim: int
    hidden: int = 128
    depth: int = 3
    n_fourier: int = 16

    @nn.compact
    def __call__(self, x_t: jax.Array, lam: jax.Array) -> jax.Array:
        emb = fourier_features(lam, self.n_fourier)  # (B, F)
        emb = nn.silu(nn.Dense(self.hidden)(emb))  # (B, H)
        h = nn.Dense(self.hidden)(x_t)  # (B, H)
        for _ in range(self.depth):
            h = nn.silu(h + nn.Dense(self.hidden)(emb))
            h = nn.Dense(self.hidden)(h)
        return nn.Dense(self.dim, kernel_init=nn.initializers.zeros)(nn.silu(h))  # (B, D)


def make_apply(net: nn.Module) -> ApplyFn:
    """Wrap a Flax module as ``apply(params, x_t, λ) -> v̂``."""

    def apply(params: Params, x_t: jax.Array, lam: jax.Array) -> jax.Array:
        return net.apply({"params": params}, x_t, lam)

    return apply


def init_params(net: nn.Module, key: jax.Array, x_shape: tuple[int, ...]) -> Params:
    """Initialise ``net`` for inputs of shape ``x_shape`` (batch axis included)."""
    x = jnp.zeros(x_shape, jnp.float32)
    return net.init(key, x, jnp.zeros((x_shape[0],), jnp.float32))["params"]


def predict_eps(apply: ApplyFn, params: Params, x_t: jax.Array, lam: jax.Array) -> jax.Array:
    """Noise prediction ``ε̂ = σ x_t + α v̂``."""
    alpha, sigma = alpha_sigma(lam)
    v = apply(params, x_t, lam)
    return expand(sigma, x_t) * x_t + expand(alpha, x_t) * v


def predict_x(apply: ApplyFn, params: Params, x_t: jax.Array, lam: jax.Array) -> jax.Array:
    """Denoiser ``x̂ = α x_t − σ v̂``."""
    alpha, sigma = alpha_sigma(lam)
    v = apply(params, x_t, lam)
    return expand(alpha, x_t) * x_t - expand(sigma, x_t) * v


def generate(apply: ApplyFn, params: Params, z: jax.Array, lambda_star: float) -> jax.Array:
    """One-step generator ``g_θ(z) = x̂_θ(z, λ*)``: the denoiser at ``λ*`` with ``z`` as input."""
    lam = jnp.full((z.shape[0],), lambda_star, z.dtype)
    return predict_x(apply, params, z, lam)
