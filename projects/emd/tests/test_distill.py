"""Student DSM, M-step, the C1 equivalence with Diff-Instruct, and the jitted training step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from emd.configs import DistillConfig
from emd.data import mixture_sample
from emd.diffusion import dsm_loss
from emd.distill import (
    c1_gradients,
    drift_factor,
    init_state,
    make_train_step,
    mstep_loss,
    weight,
)
from emd.estep import Chain
from emd.model import generate
from emd.schedule import alpha_sigma

LAM = (-10.0, 10.0)


def test_c1_emd1_equals_diff_instruct(small_net):
    """C1: EMD-1, ε only, full cancellation == Diff-Instruct gradient to 1e-5."""
    apply, psi = small_net
    cfg = DistillConfig(batch=64, weighting="x")  # w(t) = σ²/α² ⇔ the official w_DI = 1
    r = c1_gradients(apply, psi, cfg, (2,), LAM, jax.random.key(3))
    assert r["max_abs_grad"] > 1e-3  # a non-trivial gradient
    assert r["rel_diff"] < 1e-5, r


def test_c1_fails_without_cancellation(small_net):
    """The equivalence needs noise cancellation: without it the gradients differ."""
    apply, psi = small_net
    cfg = DistillConfig(batch=64)
    r = c1_gradients(apply, psi, cfg, (2,), LAM, jax.random.key(3), cancel_noise=False)
    assert r["rel_diff"] > 1e-2


def test_mstep_is_gradient_of_log_likelihood(small_net):
    """M-step surrogate gradient == ∇θ E[w log N(x^K; α g_θ(z^K), σ²)] (no cancellation)."""
    apply, theta = small_net
    Bn = 16
    k1, k2, k3 = jax.random.split(jax.random.key(4), 3)
    lam = jax.random.uniform(k1, (Bn,), minval=-5, maxval=5)
    alpha, sigma = alpha_sigma(lam)
    z, eps = jax.random.normal(k2, (Bn, 2)), jax.random.normal(k3, (Bn, 2))
    a, s = alpha[:, None], sigma[:, None]
    x_K = a * generate(apply, theta, z, -6.0) + s * eps  # chain end (x_t^K, z^K)
    w = weight(alpha, sigma, "eps")

    def neg_loglik(th):
        r = x_K - a * generate(apply, th, z, -6.0)
        return jnp.mean(w * jnp.sum(r**2, -1) / (2 * sigma**2))

    chain = Chain(eps=eps, z=z, noise=jnp.zeros_like(eps), z_noise=z)
    g_m = jax.jit(jax.grad(mstep_loss), static_argnums=(1, 6, 7, 8))(
        theta, apply, chain, alpha, sigma, w, -6.0, False, 1.0
    )
    g_ll = jax.jit(jax.grad(neg_loglik))(theta)
    for u, v in zip(jax.tree.leaves(g_m), jax.tree.leaves(g_ll)):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-6)


def test_weighting_and_drift_factor():
    alpha, sigma = alpha_sigma(jnp.array([0.0, 2.0]))
    np.testing.assert_allclose(weight(alpha, sigma, "eps"), sigma / alpha)
    np.testing.assert_allclose(weight(alpha, sigma, "x"), (sigma / alpha) ** 2)
    assert abs(drift_factor(1, 0.2) - 0.1) < 1e-12
    assert abs(drift_factor(8, 0.2) - (1 - 0.9**8)) < 1e-12


def test_dsm_loss_decreases(small_net):
    """Student score matching on fixed data: the DSM loss on a held-out batch goes down."""
    apply, psi = small_net
    opt = optax.adam(3e-3)
    x_eval = mixture_sample(jax.random.key(10), 2048)

    @jax.jit
    def train(params):
        def step(carry, k):
            p, o = carry
            k_x, k_l = jax.random.split(k)
            g = jax.grad(dsm_loss, argnums=1)(apply, p, mixture_sample(k_x, 128), k_l, *LAM)
            u, o = opt.update(g, o, p)
            return (optax.apply_updates(p, u), o), None

        (p, _), _ = jax.lax.scan(
            step, (params, opt.init(params)), jax.random.split(jax.random.key(11), 150)
        )
        return p

    before = dsm_loss(apply, psi, x_eval, jax.random.key(12), *LAM)
    after = dsm_loss(apply, train(psi), x_eval, jax.random.key(12), *LAM)
    assert after < 0.85 * before


def test_train_step_runs_and_cancellation_shrinks_gradients(small_net):
    """Jitted iterations; cancellation lowers the gradient norm (C2 in small). The other spaces
    run in the smoke test."""
    apply, psi = small_net
    norms = {}
    for space in ("eps_z",):
        for cancel in (True, False):
            cfg = DistillConfig(K=4, batch=64, space=space, cancel_noise=cancel, student_updates=1)
            step = jax.jit(make_train_step(apply, cfg, (2,), LAM))
            state = init_state(cfg, psi)
            state, logs = step(state, jax.random.key(0), psi)
            state, logs = step(state, jax.random.key(0), psi)
            assert int(state.step) == 2
            assert all(np.isfinite(float(v)) for v in logs.values())
            norms[space, cancel] = float(logs["grad_norm"])
    assert norms["eps_z", False] > 3 * norms["eps_z", True]
