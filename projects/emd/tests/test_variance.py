"""C2 at fixed states: the covariance-trace estimator, and the estimate at a frozen state."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from emd.configs import DistillConfig
from emd.variance import covariance_trace, fixed_state_variance


def test_covariance_trace_recovers_a_known_variance():
    """Gradients ``g = m + diag(s) n``: tr Cov = Σ s², whatever the mean m."""
    s = jnp.array([0.5, 1.0, 2.0, 0.1])
    g = jnp.array([3.0, -1.0, 0.0, 5.0]) + s * jax.random.normal(jax.random.key(0), (20000, 4))
    np.testing.assert_allclose(float(covariance_trace(g)), float(jnp.sum(s**2)), rtol=0.03)
    two = jnp.array([[0.0, 0.0], [2.0, 0.0]])  # unbiased (G − 1): ‖±1‖² · 2 / 1 = 2
    assert float(covariance_trace(two)) == 2.0


def test_cancellation_cuts_the_gradient_variance_at_a_frozen_state(small_net):
    """θ = ψ, φ = ψ perturbed: the same draws without cancellation have a far larger trace."""
    apply, psi = small_net
    phi = jax.tree.map(lambda p: p + 0.002 * jnp.ones_like(p), psi)
    cfg = DistillConfig(K=2, batch=32)
    r = fixed_state_variance(apply, cfg, psi, phi, psi, (2,), (-10.0, 10.0), jax.random.key(1), 4)
    assert r["gradvar_nocancel"] > 10 * r["gradvar_cancel"] > 0, r
    assert r["gradvar_ratio"] == r["gradvar_nocancel"] / r["gradvar_cancel"]
