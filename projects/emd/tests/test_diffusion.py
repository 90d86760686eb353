"""Schedule, network conversions, and the teacher's ancestral sampler."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from emd.diffusion import ancestral_sample
from emd.model import predict_eps, predict_x
from emd.schedule import alpha_sigma, log_snr


def test_schedule_endpoints_and_variance_preserving():
    lam = log_snr(jnp.array([0.0, 0.5, 1.0]), -10.0, 10.0)
    np.testing.assert_allclose(lam, [10.0, 0.0, -10.0], atol=1e-4)
    alpha, sigma = alpha_sigma(jnp.linspace(-10, 10, 7))
    np.testing.assert_allclose(alpha**2 + sigma**2, 1.0, atol=1e-6)
    np.testing.assert_allclose(jnp.log(alpha**2 / sigma**2), jnp.linspace(-10, 10, 7), atol=1e-3)


def test_x_and_eps_predictions_reconstruct_x_t(small_net):
    """``α x̂ + σ ε̂ = x_t`` for any v̂ (the conversions are consistent)."""
    apply, psi = small_net
    x_t = jax.random.normal(jax.random.key(0), (6, 2))
    lam = jnp.linspace(-5, 5, 6)
    alpha, sigma = alpha_sigma(lam)
    rec = alpha[:, None] * predict_x(apply, psi, x_t, lam) + sigma[:, None] * predict_eps(
        apply, psi, x_t, lam
    )
    np.testing.assert_allclose(rec, x_t, atol=1e-5)


def test_ancestral_sampler_with_exact_gaussian_teacher():
    """Data N(μ, s²): the exact v-predictor makes the sampler return N(μ, s²)."""
    mu, s = jnp.array([1.0, -2.0]), 0.5

    def apply(params, x_t, lam):  # exact posterior mean → v = (α x_t − x̂)/σ
        alpha, sigma = alpha_sigma(lam)
        a, sg = alpha[:, None], sigma[:, None]
        x_hat = mu + a * s**2 * (x_t - a * mu) / (a**2 * s**2 + sg**2)
        return (a * x_t - x_hat) / sg

    x = ancestral_sample(apply, {}, jax.random.key(0), (20000, 2), 200, -10.0, 10.0)
    np.testing.assert_allclose(np.mean(x, 0), mu, atol=0.02)
    np.testing.assert_allclose(np.std(x, 0), s, atol=0.03)


def test_teacher_sampler_quality_rises_with_nfe():
    """The NFE sweep (C6): with the exact Gaussian teacher, 1 NFE returns x̂(x_1) ≈ the data mean
    (no spread), and the spread approaches the data's as the NFE grow."""
    mu, s = jnp.array([1.0, -2.0]), 0.5

    def apply(params, x_t, lam):
        alpha, sigma = alpha_sigma(lam)
        a, sg = alpha[:, None], sigma[:, None]
        x_hat = mu + a * s**2 * (x_t - a * mu) / (a**2 * s**2 + sg**2)
        return (a * x_t - x_hat) / sg

    spread = {}
    for nfe in (1, 2, 50):
        x = ancestral_sample(apply, {}, jax.random.key(nfe), (4000, 2), nfe, -10.0, 10.0)
        spread[nfe] = float(np.mean(np.std(x, 0)))
    assert spread[1] < 0.05 * s
    assert spread[1] < spread[2] < spread[50]
    assert abs(spread[50] - s) < 0.05
