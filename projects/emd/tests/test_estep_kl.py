"""The E-step's KL to ρ (C7): the kNN entropy and the KL estimator on known cases, the noised
mixture's density, and a chain with exact scores whose KL falls as K grows."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from emd.data import RARE_MODES, Mixture
from emd.estep import langevin
from emd.estep_kl import knn_entropy, marginal_kl, mixture_log_density
from emd.schedule import alpha_sigma

MU, S_DATA, M, C = np.array([1.0, -0.5]), 0.3, np.array([-0.5, 0.5]), 1.0


def test_knn_entropy_of_a_gaussian():
    """``N(0, s² I)`` in 2-D has entropy ``1 + log(2π s²)``."""
    x = 0.7 * np.random.default_rng(0).standard_normal((4000, 2))
    np.testing.assert_allclose(knn_entropy(x), 1 + np.log(2 * np.pi * 0.49), atol=0.05)


def test_marginal_kl_recovers_a_known_gaussian_kl_and_zero():
    """``KL(N(m, s² I) ‖ N(0, I)) = ½ Σ (s² + m² − 1 − log s²)``; ``KL(p ‖ p) ≈ 0``."""
    rng = np.random.default_rng(1)
    m, s = np.array([0.5, -1.0]), 0.6
    x = m + s * rng.standard_normal((4000, 2))
    log_p = -np.log(2 * np.pi) - 0.5 * np.sum(x**2, 1)
    want = 0.5 * np.sum(s**2 + m**2 - 1 - np.log(s**2))
    np.testing.assert_allclose(marginal_kl(x, log_p), want, atol=0.05)
    y = rng.standard_normal((4000, 2))
    assert abs(marginal_kl(y, -np.log(2 * np.pi) - 0.5 * np.sum(y**2, 1))) < 0.05


def test_mixture_log_density_is_the_noised_mixture():
    """One component: ``N(α μ, (α² s² + σ²) I)``; every mixture integrates to one on a grid."""
    one = Mixture(MU[None], np.array([S_DATA]), np.array([1.0]))
    x = np.random.default_rng(2).standard_normal((10, 2))
    a, s = 0.8, 0.6
    var = a**2 * S_DATA**2 + s**2
    want = -np.log(2 * np.pi * var) - 0.5 * np.sum((x - a * MU) ** 2, 1) / var
    np.testing.assert_allclose(mixture_log_density(one, x, a, s), want, rtol=1e-10)
    g = np.linspace(-3, 3, 301)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    mass = np.exp(mixture_log_density(RARE_MODES, grid, 0.9, 0.3)).sum() * (g[1] - g[0]) ** 2
    np.testing.assert_allclose(mass, 1.0, atol=1e-3)


def test_longer_exact_chains_lower_the_kl_to_p_t():
    """Teacher ``N(μ, s² I)``, generator ``g(z) = m + c z`` with the exact student: the chain's
    x_t-marginal starts at ``p_{θ,t}`` (KL ≈ 9.5) and its KL to ``p_t`` falls with K to the
    estimator's noise floor."""
    n, lam = 4000, 2.0
    alpha, sigma = alpha_sigma(jnp.full((n,), lam))
    a, s = float(alpha[0]), float(sigma[0])
    var_t, var_s = a**2 * S_DATA**2 + s**2, a**2 * C**2 + s**2

    def eps_diff(x):  # ε̂_φ − ε̂_ψ with exact Gaussian scores
        return s * (x - a * jnp.asarray(M)) / var_s - s * (x - a * jnp.asarray(MU)) / var_t

    def g(z):
        return jnp.asarray(M) + C * z

    one = Mixture(MU[None], np.array([S_DATA]), np.array([1.0]))
    k0, k1, k2 = jax.random.split(jax.random.key(3), 3)
    eps, z = jax.random.normal(k0, (n, 2)), jax.random.normal(k1, (n, 2))
    run8 = jax.jit(lambda e, z, k: langevin(g, eps_diff, e, z, alpha, sigma, k, 8, 0.1, 0.1))
    kl = {}
    for K in range(0, 129, 8):  # chains continued 8 steps at a time: K = 0, 8, ..., 128
        if K in (0, 8, 32, 128):
            x = np.asarray(a * g(z) + s * eps, np.float64)
            kl[K] = marginal_kl(x, mixture_log_density(one, x, a, s))
        chain = run8(eps, z, jax.random.fold_in(k2, K))
        eps, z = chain.eps, chain.z
    assert kl[0] > kl[8] > kl[32], kl  # 0.05: the estimator's noise at 4000 samples
    assert kl[0] > 1.0 and kl[32] < 0.05 and kl[128] < 0.05, kl
