"""E-step: drifts against analytic gradients and finite differences, noise bookkeeping."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from emd.estep import chain_diagnostics, drift_eps_z, drift_x_z, langevin
from emd.schedule import alpha_sigma

B, D = 5, 2
MU, S_DATA = jnp.array([0.7, -0.4]), 0.5  # teacher data N(μ, s² I)
M, C = jnp.array([0.2, 0.3]), 0.8  # linear generator g(z) = m + c z


def gaussian_problem(lam: jax.Array):
    """Teacher p_t = N(αμ, α²s² + σ²) and student p_{θ,t} = N(α m, α² c² + σ²), exact."""
    alpha, sigma = alpha_sigma(lam)
    a, s = alpha[:, None], sigma[:, None]
    var_t, var_s = a**2 * S_DATA**2 + s**2, a**2 * C**2 + s**2

    def eps_teacher(x):
        return s * (x - a * MU) / var_t  # ε̂ = −σ ∇ log p_t

    def eps_student(x):
        return s * (x - a * M) / var_s

    def log_rho(eps, z):  # log p_t(x_t) − log p_θt(x_t) − ½‖ε‖² − ½‖z‖², x_t = α g(z) + σ ε
        x = a * (M + C * z) + s * eps
        lp_t = -0.5 * jnp.sum((x - a * MU) ** 2 / var_t)
        lp_s = -0.5 * jnp.sum((x - a * M) ** 2 / var_s)
        return lp_t - lp_s - 0.5 * jnp.sum(eps**2) - 0.5 * jnp.sum(z**2)

    return alpha, sigma, (lambda x: eps_student(x) - eps_teacher(x)), log_rho


def test_drift_eps_z_equals_analytic_gradient():
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    lam = jax.random.uniform(k1, (B,), minval=-6, maxval=6)
    alpha, sigma, eps_diff, log_rho = gaussian_problem(lam)
    eps, z = jax.random.normal(k2, (B, D)), jax.random.normal(k3, (B, D))
    d_eps, d_z = drift_eps_z(lambda z: M + C * z, eps_diff, eps, z, alpha, sigma)
    g_eps, g_z = jax.grad(log_rho, argnums=(0, 1))(eps, z)
    np.testing.assert_allclose(d_eps, g_eps, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d_z, g_z, rtol=1e-5, atol=1e-5)


def test_drift_x_z_equals_analytic_gradient():
    k1, k2, k3 = jax.random.split(jax.random.key(1), 3)
    lam = jax.random.uniform(k1, (B,), minval=-4, maxval=4)
    alpha, sigma, eps_diff, _ = gaussian_problem(lam)
    a, s = alpha[:, None], sigma[:, None]
    var_t, var_s = a**2 * S_DATA**2 + s**2, a**2 * C**2 + s**2

    def log_rho_x(x, z):  # log p_t(x) − log p_θt(x) + log N(x; α g(z), σ²) + log N(z)
        lp = -0.5 * jnp.sum((x - a * MU) ** 2 / var_t) + 0.5 * jnp.sum((x - a * M) ** 2 / var_s)
        return lp - 0.5 * jnp.sum((x - a * (M + C * z)) ** 2 / s**2) - 0.5 * jnp.sum(z**2)

    x, z = jax.random.normal(k2, (B, D)), jax.random.normal(k3, (B, D))
    d_x, d_z = drift_x_z(lambda z: M + C * z, eps_diff, x, z, alpha, sigma)
    g_x, g_z = jax.grad(log_rho_x, argnums=(0, 1))(x, z)
    np.testing.assert_allclose(d_x, g_x, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(d_z, g_z, rtol=1e-4, atol=1e-4)


def test_vjp_z_drift_matches_finite_differences():
    """Nonlinear generator: the vjp z-drift equals central differences of log ρ(ε, z)."""
    W = jnp.array([[1.2, -0.5], [0.3, 0.9]])

    def g(z):
        return jnp.tanh(z @ W) + 0.1 * z**2

    lam = jnp.array([-1.0, 0.5, 2.0])
    alpha, sigma, _, _ = gaussian_problem(lam)
    a, s = alpha[:, None], sigma[:, None]
    var_t = a**2 * S_DATA**2 + s**2

    def eps_diff(x):  # student = N(0, I) marginal, teacher Gaussian
        return s * x - s * (x - a * MU) / var_t

    def log_rho(eps, z):
        x = a * g(z) + s * eps
        return (
            -0.5 * jnp.sum((x - a * MU) ** 2 / var_t)
            + 0.5 * jnp.sum(x**2)
            - 0.5 * jnp.sum(eps**2)
            - 0.5 * jnp.sum(z**2)
        )

    eps = jax.random.normal(jax.random.key(2), (3, 2))
    z = jax.random.normal(jax.random.key(3), (3, 2))
    _, d_z = drift_eps_z(g, eps_diff, eps, z, alpha, sigma)
    h = 1e-2
    fd = np.zeros((3, 2))
    for i in range(3):
        for j in range(2):
            e = jnp.zeros((3, 2)).at[i, j].set(h)
            fd[i, j] = (log_rho(eps, z + e) - log_rho(eps, z - e)) / (2 * h)
    np.testing.assert_allclose(d_z, fd, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("space", ["eps", "eps_z"])
def test_noise_bookkeeping_leaves_only_the_drift(space):
    """With a constant force Δ, ``ε^K − N^K = (1 − (1 − γ/2)^K) Δ`` whatever the noise."""
    K, gamma = 6, 0.3
    delta = jnp.array([[0.5, -1.0]] * B)
    eps0 = jax.random.normal(jax.random.key(4), (B, D))
    z0 = jax.random.normal(jax.random.key(5), (B, D))
    lam = jnp.zeros((B,))
    alpha, sigma = alpha_sigma(lam)
    chain = langevin(
        lambda z: 0.0 * z,
        lambda x: delta,
        eps0,
        z0,
        alpha,
        sigma,
        jax.random.key(6),
        K,
        gamma,
        0.01,
        space,
    )
    np.testing.assert_allclose(
        chain.eps - chain.noise, (1 - (1 - gamma / 2) ** K) * delta, atol=1e-5
    )
    assert not np.allclose(
        chain.eps, (1 - (1 - gamma / 2) ** K) * delta, atol=1e-2
    )  # noise present


def test_chain_stays_at_equilibrium_when_student_equals_teacher():
    """ε̂_φ = ε̂_ψ: ρ = N(0, I) × N(0, I); small-step Langevin from N(0, I) stays there."""
    n = 20000
    eps0 = jax.random.normal(jax.random.key(7), (n, D))
    z0 = jax.random.normal(jax.random.key(8), (n, D))
    alpha, sigma = alpha_sigma(jnp.zeros((n,)))
    chain = langevin(
        lambda z: jnp.tanh(z),
        jnp.zeros_like,
        eps0,
        z0,
        alpha,
        sigma,
        jax.random.key(9),
        16,
        0.02,
        0.02,
    )
    for y in (chain.eps, chain.z):
        np.testing.assert_allclose(np.mean(y, 0), 0.0, atol=0.03)
        np.testing.assert_allclose(np.var(y, 0), 1.0, atol=0.04)


def test_unknown_space_is_rejected():
    with pytest.raises(ValueError, match="unknown sampling space"):
        langevin(
            lambda z: z,
            jnp.zeros_like,
            jnp.zeros((1, 2)),
            jnp.zeros((1, 2)),
            jnp.ones(1),
            jnp.ones(1),
            jax.random.key(0),
            1,
            0.1,
            0.1,
            "bogus",
        )


def test_diagnostics_split_the_chain_into_drift_and_noise():
    """No force (ε̂_φ = ε̂_ψ): the bookkeeping explains every move, drift-to-noise is 0 and the
    ε relaxation is its prior value ``1 − (1 − γ/2)^K``; a constant force adds drift."""
    n, K, gamma = 4000, 8, 0.5
    eps0 = jax.random.normal(jax.random.key(10), (n, D))
    z0 = jax.random.normal(jax.random.key(11), (n, D))
    alpha, sigma = alpha_sigma(jnp.zeros((n,)))
    args = (eps0, z0, alpha, sigma, jax.random.key(12), K, gamma, gamma)
    lam = jnp.zeros((n,))
    idle = chain_diagnostics(
        langevin(lambda z: z, jnp.zeros_like, *args), eps0, z0, K, gamma, gamma, lam
    )
    assert float(idle["drift_to_noise_eps"]) < 1e-5 and float(idle["drift_to_noise_z"]) < 1e-5
    np.testing.assert_allclose(float(idle["relax_eps"]), 1 - (1 - gamma / 2) ** K, atol=0.03)
    push = langevin(lambda z: z, lambda x: jnp.full_like(x, 2.0), *args)
    moved = chain_diagnostics(push, eps0, z0, K, gamma, gamma, lam)
    assert float(moved["drift_to_noise_eps"]) > 1.0 and float(moved["drift_to_noise_z"]) > 1.0
    # λ = 0 is not above SNR 1: no chain is selected, so the SNR > 1 ratio is 0.
    assert float(moved["drift_to_noise_z_snr1"]) == 0.0
    high = chain_diagnostics(push, eps0, z0, K, gamma, gamma, lam + 1.0)
    np.testing.assert_allclose(
        float(high["drift_to_noise_z_snr1"]), float(moved["drift_to_noise_z"]), rtol=1e-5
    )


def test_xz_uncancelled_term_is_bookkept_exactly():
    """(x, z) chain, constant force c: the signal alone gives ``ε^K − N^K − U^K = c(1 − (1 −
    γ_ε/2)^K)`` exactly, whatever z and the nonlinear g do; U is what makes up the rest."""
    n, K, gamma_eps, gamma_z, force = 64, 8, 0.5, 0.05, 0.3
    eps0 = jax.random.normal(jax.random.key(20), (n, D))
    z0 = jax.random.normal(jax.random.key(21), (n, D))
    alpha, sigma = alpha_sigma(jnp.linspace(-3.0, 3.0, n))
    chain = langevin(
        lambda z: jnp.tanh(z) + 0.2 * z**2,
        lambda x: jnp.full_like(x, force),
        eps0, z0, alpha, sigma, jax.random.key(22), K, gamma_eps, gamma_z, "x_z",
    )  # fmt: skip
    signal = chain.eps - chain.noise - chain.uncancelled
    np.testing.assert_allclose(signal, force * (1 - (1 - gamma_eps / 2) ** K), atol=1e-5)
    assert float(jnp.sqrt(jnp.mean(chain.uncancelled**2))) > 0.01
    eps_z = langevin(
        lambda z: z, jnp.zeros_like, eps0, z0, alpha, sigma, jax.random.key(22), K, 0.5, 0.05
    )
    assert eps_z.uncancelled is None  # the (ε, z) chain has no such term
    assert "uncancelled_to_cancelled" not in chain_diagnostics(
        eps_z, eps0, z0, K, 0.5, 0.05, jnp.zeros(n)
    )


def test_xz_uncancelled_term_has_its_known_size():
    """K = 1, no force, g(z) = c z: ``U¹ = −(αc/σ)(z¹ − z⁰)`` with ``z¹ − z⁰ = (γ_z/2)((αc/σ)ε⁰
    − z⁰) + √γ_z n``, so ``rms(U¹)² = (αc/σ)²((γ_z/2)²((αc/σ)² + 1) + γ_z)`` against
    ``rms(N¹)² = (1 − γ_ε/2)² + γ_ε``; the diagnostic must give their ratio."""
    n, gamma_eps, gamma_z, c = 200_000, 0.5, 0.2, 1.5
    lam = jnp.full((n,), 2.0)
    alpha, sigma = alpha_sigma(lam)
    eps0 = jax.random.normal(jax.random.key(30), (n, D))
    z0 = jax.random.normal(jax.random.key(31), (n, D))
    chain = langevin(
        lambda z: c * z, jnp.zeros_like, eps0, z0, alpha, sigma, jax.random.key(32), 1,
        gamma_eps, gamma_z, "x_z",
    )  # fmt: skip
    r = float(alpha[0] * c / sigma[0])
    want_u = r * np.sqrt((gamma_z / 2) ** 2 * (r**2 + 1) + gamma_z)
    want_n = np.sqrt((1 - gamma_eps / 2) ** 2 + gamma_eps)
    diag = chain_diagnostics(chain, eps0, z0, 1, gamma_eps, gamma_z, lam)
    np.testing.assert_allclose(float(diag["uncancelled_to_cancelled"]), want_u / want_n, rtol=0.01)
    # No force: the signal is 0, so U is the whole residual (ratio to the signal explodes).
    assert float(diag["uncancelled_to_signal"]) > 1e3
