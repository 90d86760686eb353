"""E-step: short-run Langevin on the joint posterior of ``(x_t, z)`` (paper §3.2-3.3).

The generator's noisy model is ``p_θ(x_t | z) = N(α_t g_θ(z), σ_t² I)``; the E-step samples

    ρ_t(x_t, z) ∝ p_t(x_t) p_θ(x_t | z) p(z) / p_{θ,t}(x_t),

with the teacher score ``s_ψ ≈ ∇ log p_t`` and the student score ``s_φ ≈ ∇ log p_{θ,t}``.
In the reparametrised coordinates ``x_t = α_t g_θ(z) + σ_t ε`` both ε and z have ``N(0, I)``
priors and

    log ρ(ε, z) = log p_t(x_t) − log p_{θ,t}(x_t) − ½‖ε‖² − ½‖z‖² + const,
    ∇_ε log ρ = σ_t (s_ψ − s_φ)(x_t) − ε        = (ε̂_φ − ε̂_ψ)(x_t) − ε,
    ∇_z log ρ = α_t J_gᵀ (s_ψ − s_φ)(x_t) − z    = (α_t/σ_t) J_gᵀ (ε̂_φ − ε̂_ψ)(x_t) − z.

Chains start from generator samples ``(ε⁰, z⁰) ~ N(0, I)``. The noise bookkeeping
``N⁰ = ε⁰, N^{k+1} = (1 − γ_ε/2) N^k + √γ_ε n^k`` tracks the part of ``ε^K`` that is initial or
injected Gaussian noise; ``ε^K − N^K`` is what remains after noise cancellation (§3.3). The
same bookkeeping for z, ``M⁰ = z⁰, M^{k+1} = (1 − γ_z/2) M^k + √γ_z n_z^k``, splits ``z^K`` into
the accumulated likelihood drift ``z^K − M^K`` and the injected noise ``M^K − (1 − γ_z/2)^K z⁰``;
their ratio says whether the z-chain moves by more than its noise (issue 16). The z-drift's
likelihood term ``(α_t/σ_t) J_gᵀ(ε̂_φ − ε̂_ψ) = (α_t/σ_t)² J_gᵀ(x̂_ψ − x̂_φ)`` vanishes where noise
dominates (``p_θ(z | x_t)`` ≈ its prior), so the ratio is also reported over the chains at
``λ_t > 0`` (SNR > 1).

In the ``(x, z)`` chain ``ε^k = (x_t^k − α g(z^k))/σ`` also changes when z moves, and ``N`` does not
track that change: ``ε^K − N^K = S^K + U^K`` with the signal ``S^{k+1} = (1 − γ_ε/2) S^k +
(γ_ε/2)(ε̂_φ − ε̂_ψ)`` (as in the ``(ε, z)`` chain) and the **uncancelled term**
``U⁰ = 0, U^{k+1} = (1 − γ_ε/2) U^k − (α/σ)(g(z^{k+1}) − g(z^k))``, which carries z's injected
noise (and the ε noise in z's drift) through ``g``. It is bookkept exactly (``Chain.uncancelled``)
so its size can be measured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp

from emd.schedule import expand

Space = Literal["eps_z", "x_z", "eps"]
SPACES: tuple[str, ...] = ("eps_z", "x_z", "eps")
DIAGNOSTICS: tuple[str, ...] = (
    "drift_to_noise_eps",
    "drift_to_noise_z",
    "drift_to_noise_z_snr1",
    "relax_eps",
    "uncancelled_to_cancelled",  # (x, z) chain only
    "uncancelled_to_signal",  # (x, z) chain only
)
# g(z) -> x (B, ...); eps_diff(x_t) -> ε̂_φ(x_t) − ε̂_ψ(x_t) (B, ...), both at this batch's λ_t.
GenFn = Callable[[jax.Array], jax.Array]
EpsDiffFn = Callable[[jax.Array], jax.Array]


class Chain(NamedTuple):
    """Final state of the E-step: ``ε^K``, ``z^K``, the noise bookkeeping ``N^K``, ``M^K`` and,
    for the ``(x, z)`` chain, its uncancelled term ``U^K`` (None in the other spaces)."""

    eps: jax.Array  # (B, ...) ε^K (for the (x, z) chain: (x^K − α g(z^K)) / σ)
    z: jax.Array  # (B, ...) z^K
    noise: jax.Array  # (B, ...) N^K
    z_noise: jax.Array  # (B, ...) M^K: z's prior-and-noise part (see ``langevin``)
    uncancelled: jax.Array | None = None  # (B, ...) U^K of the (x, z) chain (module docstring)


def drift_eps_z(
    g: GenFn, eps_diff: EpsDiffFn, eps: jax.Array, z: jax.Array, alpha: jax.Array, sigma: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """``(∇_ε log ρ, ∇_z log ρ)`` at ``(ε, z)``; the z part is one vector-Jacobian product."""
    x_gen, vjp = jax.vjp(g, z)
    a, s = expand(alpha, x_gen), expand(sigma, x_gen)
    delta = eps_diff(a * x_gen + s * eps)  # ε̂_φ − ε̂_ψ = σ (s_ψ − s_φ)
    (jt_delta,) = vjp((a / s) * delta)  # α J_gᵀ (s_ψ − s_φ)
    return delta - eps, jt_delta - z


def drift_x_z(
    g: GenFn, eps_diff: EpsDiffFn, x_t: jax.Array, z: jax.Array, alpha: jax.Array, sigma: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """``(∇_x log ρ, ∇_z log ρ)`` at ``(x_t, z)`` in the original coordinates.

    ``∇_x = (s_ψ − s_φ)(x_t) − (x_t − α g)/σ²`` and ``∇_z = (α/σ²) J_gᵀ (x_t − α g) − z``.
    """
    x_gen, vjp = jax.vjp(g, z)
    a, s = expand(alpha, x_gen), expand(sigma, x_gen)
    r = x_t - a * x_gen  # (B, ...) = σ ε
    (jt_r,) = vjp(a * r / s**2)
    return eps_diff(x_t) / s - r / s**2, jt_r - z


def langevin(
    g: GenFn,
    eps_diff: EpsDiffFn,
    eps0: jax.Array,
    z0: jax.Array,
    alpha: jax.Array,
    sigma: jax.Array,
    key: jax.Array,
    K: int,
    gamma_eps: float,
    gamma_z: float,
    space: Space = "eps_z",
) -> Chain:
    """K Langevin steps ``y ← y + (γ/2)∇ log ρ + √γ n`` from ``(ε⁰, z⁰)`` in ``lax.scan``.

    ``space``: ``"eps_z"`` (the paper's reparametrised sampler), ``"eps"`` (z frozen), or
    ``"x_z"`` (chain on ``x_t`` with step ``σ_t² γ_ε``, i.e. the same step as ε in x units).
    The bookkeeping ``N`` follows the ε-chain's linear part in every space, ``M`` the z-chain's
    (z frozen in ``"eps"``: ``M = z⁰``).
    """
    if space not in SPACES:
        raise ValueError(f"unknown sampling space {space!r}; expected one of {SPACES}")
    c_eps, c_z = jnp.sqrt(gamma_eps), jnp.sqrt(gamma_z)
    decay_eps, decay_z = 1.0 - 0.5 * gamma_eps, 1.0 - 0.5 * gamma_z
    keys = jax.random.split(key, K)
    s = expand(sigma, eps0)

    if space == "x_z":
        a = expand(alpha, eps0)
        x_gen0 = g(z0)

        def step(carry, k):
            x_t, z, N, M, U, x_gen = carry
            k_e, k_z = jax.random.split(k)
            n_e, n_z = jax.random.normal(k_e, x_t.shape), jax.random.normal(k_z, z.shape)
            d_x, d_z = drift_x_z(g, eps_diff, x_t, z, alpha, sigma)
            x_t = x_t + 0.5 * gamma_eps * s**2 * d_x + c_eps * s * n_e
            z = z + 0.5 * gamma_z * d_z + c_z * n_z
            x_new = g(z)
            U = decay_eps * U - (a / s) * (x_new - x_gen)
            return (x_t, z, decay_eps * N + c_eps * n_e, decay_z * M + c_z * n_z, U, x_new), None

        init = (a * x_gen0 + s * eps0, z0, eps0, z0, jnp.zeros_like(eps0), x_gen0)
        (x_t, z, N, M, U, x_gen), _ = jax.lax.scan(step, init, keys)
        return Chain((x_t - a * x_gen) / s, z, N, M, U)

    if space == "eps":
        x_gen0 = g(z0)
        a = expand(alpha, eps0)

        def step(carry, k):
            eps, z, N, M = carry
            n_e = jax.random.normal(k, eps.shape)
            d_eps = eps_diff(a * x_gen0 + s * eps) - eps
            eps = eps + 0.5 * gamma_eps * d_eps + c_eps * n_e
            return (eps, z, decay_eps * N + c_eps * n_e, M), None

    else:

        def step(carry, k):
            eps, z, N, M = carry
            k_e, k_z = jax.random.split(k)
            n_e, n_z = jax.random.normal(k_e, eps.shape), jax.random.normal(k_z, z.shape)
            d_eps, d_z = drift_eps_z(g, eps_diff, eps, z, alpha, sigma)
            eps = eps + 0.5 * gamma_eps * d_eps + c_eps * n_e
            z = z + 0.5 * gamma_z * d_z + c_z * n_z
            return (eps, z, decay_eps * N + c_eps * n_e, decay_z * M + c_z * n_z), None

    (eps, z, N, M), _ = jax.lax.scan(step, (eps0, z0, eps0, z0), keys)
    return Chain(eps, z, N, M)


def _ratio(drift: jax.Array, noise: jax.Array, mask: jax.Array) -> jax.Array:
    """``rms(drift) / rms(noise)`` over the chains selected by ``mask (B,)`` (0 if none)."""
    m = expand(mask.astype(drift.dtype), drift)
    return jnp.sqrt(jnp.sum(m * drift**2)) / (jnp.sqrt(jnp.sum(m * noise**2)) + 1e-12)


def chain_diagnostics(
    chain: Chain,
    eps0: jax.Array,
    z0: jax.Array,
    K: int,
    gamma_eps: float,
    gamma_z: float,
    lam: jax.Array,
) -> dict[str, jax.Array]:
    """How far the E-step moved, split by the bookkeeping into drift and injected noise.

    ``drift_to_noise_eps = rms(ε^K − N^K) / rms(N^K − (1 − γ_ε/2)^K ε⁰)`` and the same for z with
    ``M`` (``drift_to_noise_z``: all chains; ``drift_to_noise_z_snr1``: the chains at log-SNR
    ``λ_t > 0``, where ``p_θ(z | x_t)`` differs from its prior); ``relax_eps = 1 − ⟨ε^K, ε⁰⟩ /
    ⟨ε⁰, ε⁰⟩`` is how far the ε-chain forgot its start (its prior part alone gives
    ``1 − (1 − γ_ε/2)^K``; 1 = fully relaxed). For the ``(x, z)`` chain also the size of its
    uncancelled term ``U^K`` against the noise that cancellation removes,
    ``uncancelled_to_cancelled = rms(U^K) / rms(N^K)``, and against the signal the M-step should
    see, ``uncancelled_to_signal = rms(U^K) / rms(ε^K − N^K − U^K)``.
    """
    noise_eps = chain.noise - (1.0 - 0.5 * gamma_eps) ** K * eps0
    noise_z = chain.z_noise - (1.0 - 0.5 * gamma_z) ** K * z0
    drift_z, every = chain.z - chain.z_noise, jnp.ones_like(lam, bool)
    out = {
        "drift_to_noise_eps": _ratio(chain.eps - chain.noise, noise_eps, every),
        "drift_to_noise_z": _ratio(drift_z, noise_z, every),
        "drift_to_noise_z_snr1": _ratio(drift_z, noise_z, lam > 0),
        "relax_eps": 1.0 - jnp.sum(chain.eps * eps0) / jnp.sum(eps0**2),
    }
    if chain.uncancelled is not None:
        U = chain.uncancelled
        out["uncancelled_to_cancelled"] = _ratio(U, chain.noise, every)
        out["uncancelled_to_signal"] = _ratio(U, chain.eps - chain.noise - U, every)
    return out
