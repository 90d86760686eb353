"""Teacher diffusion model: the denoising score matching loss and the ancestral sampler."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from emd.model import ApplyFn, Params, predict_x
from emd.schedule import alpha_sigma, expand, log_snr


def dsm_loss(
    apply: ApplyFn,
    params: Params,
    x0: jax.Array,
    key: jax.Array,
    lambda_min: float,
    lambda_max: float,
) -> jax.Array:
    """Denoising score matching in v-parametrisation, ``E_{u,ε} ‖v̂(x_t, λ_u) − v‖²``.

    ``x_t = α x0 + σ ε`` and ``v = α ε − σ x0`` with ``u ~ U(0, 1)``. Equivalent to ε-matching with
    weight ``1/α²`` (up to the factor), i.e. ``σ²``-weighted x-matching. Used for the teacher
    (``x0`` data) and for the student score (``x0 = sg(g_θ(z))``).
    """
    k_u, k_eps = jax.random.split(key)
    u = jax.random.uniform(k_u, (x0.shape[0],))  # (B,)
    lam = log_snr(u, lambda_min, lambda_max)
    alpha, sigma = alpha_sigma(lam)
    eps = jax.random.normal(k_eps, x0.shape, x0.dtype)
    a, s = expand(alpha, x0), expand(sigma, x0)
    x_t = a * x0 + s * eps
    v = a * eps - s * x0
    err = apply(params, x_t, lam) - v
    return jnp.mean(jnp.sum(err.reshape(err.shape[0], -1) ** 2, axis=-1))


def ancestral_sample(
    apply: ApplyFn,
    params: Params,
    key: jax.Array,
    shape: tuple[int, ...],
    n_steps: int,
    lambda_min: float,
    lambda_max: float,
) -> jax.Array:
    """Ancestral (DDPM-type) sampler with ``n_steps`` network evaluations.

    Steps ``u_0 = 1 > u_1 > … > u_{N−1}`` on a uniform grid; from ``s`` to ``t`` it draws
    ``x_t ~ q(x_t | x_s, x = x̂(x_s))`` with mean ``e^{λ_s−λ_t}(α_t/α_s) x_s + α_t c x̂`` and variance
    ``c σ_t²``, ``c = 1 − e^{λ_s−λ_t}`` (Kingma et al. 2021, eq. 33). The last evaluation returns
    ``x̂`` itself, so NFE = ``n_steps``.
    """
    u = jnp.linspace(1.0, 0.0, n_steps + 1)[:n_steps]  # (N,)
    lam = log_snr(u, lambda_min, lambda_max)
    k_init, k_steps = jax.random.split(key)
    x = jax.random.normal(k_init, shape)
    B = shape[0]

    def step(x_s: jax.Array, inp: tuple[jax.Array, jax.Array, jax.Array]):
        lam_s, lam_t, k = inp
        x_hat = predict_x(apply, params, x_s, jnp.full((B,), lam_s))
        alpha_s, _ = alpha_sigma(lam_s)
        alpha_t, sigma_t = alpha_sigma(lam_t)
        c = -jnp.expm1(lam_s - lam_t)
        mean = jnp.exp(lam_s - lam_t) * (alpha_t / alpha_s) * x_s + alpha_t * c * x_hat
        x_t = mean + jnp.sqrt(c) * sigma_t * jax.random.normal(k, x_s.shape)
        return x_t, None

    keys = jax.random.split(k_steps, n_steps - 1)
    x, _ = jax.lax.scan(step, x, (lam[:-1], lam[1:], keys))
    return predict_x(apply, params, x, jnp.full((B,), lam[-1]))
