"""Claim C2 at fixed states: the M-step gradient's covariance with and without noise cancellation.

During training the two arms follow different trajectories and a minibatch gradient norm mixes
signal with variance. Here the state (θ, φ) is frozen (a checkpoint of the cancelled run), the
same ``n_batches`` minibatch draws (λ, ε⁰, z⁰, chain noise) are pushed through the E- and M-step
twice, once with ``ε^K − N^K`` and once with ``ε^K``, and the trace of each gradient covariance
is estimated (paper Fig. 3a shows the effect on the norm; the trace is its variance part).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp

from emd.configs import DistillConfig
from emd.distill import generator_grad, sample_levels
from emd.model import ApplyFn, Params


def covariance_trace(grads: jax.Array) -> jax.Array:
    """Unbiased ``tr Cov[g]`` from ``G ≥ 2`` flattened gradients ``(G, P)``:
    ``Σ_i ‖g_i − ḡ‖² / (G − 1)``."""
    centred = grads - jnp.mean(grads, axis=0, keepdims=True)
    return jnp.sum(centred**2) / (grads.shape[0] - 1)


def _flat(tree: Params) -> jax.Array:
    return jnp.concatenate([jnp.ravel(x) for x in jax.tree.leaves(tree)])


_FNS: dict[tuple, Callable] = {}


def _traces_fn(
    apply: ApplyFn,
    cfg: DistillConfig,
    x_shape: tuple[int, ...],
    lam_range: tuple[float, float],
    n_batches: int,
) -> Callable:
    """Jitted ``(θ, φ, ψ, key) -> (tr Cov cancelled, tr Cov not cancelled)``, cached."""
    cache_key = (id(apply), repr(cfg), x_shape, lam_range, n_batches)
    if cache_key not in _FNS:
        arms = [dataclasses.replace(cfg, cancel_noise=c) for c in (True, False)]

        def one_batch(theta, phi, psi, key):
            k_lam, k_eps, k_z, k_chain = jax.random.split(key, 4)
            lam = sample_levels(k_lam, cfg.batch, cfg, lam_range)
            eps0 = jax.random.normal(k_eps, (cfg.batch, *x_shape))
            z0 = jax.random.normal(k_z, (cfg.batch, *x_shape))
            return [
                _flat(generator_grad(apply, c, theta, phi, psi, lam, eps0, z0, k_chain)[1])
                for c in arms
            ]

        @jax.jit
        def traces(theta, phi, psi, key):
            keys = jax.random.split(key, n_batches)
            g_c, g_n = jax.lax.map(lambda k: one_batch(theta, phi, psi, k), keys)
            return covariance_trace(g_c), covariance_trace(g_n)

        _FNS[cache_key] = traces
    return _FNS[cache_key]


def fixed_state_variance(
    apply: ApplyFn,
    cfg: DistillConfig,
    theta: Params,
    phi: Params,
    psi: Params,
    x_shape: tuple[int, ...],
    lam_range: tuple[float, float],
    key: jax.Array,
    n_batches: int = 32,
) -> dict[str, float]:
    """Gradient-covariance traces at the frozen state ``(θ, φ)`` over ``n_batches`` minibatches,
    with (``gradvar_cancel``) and without (``gradvar_nocancel``) noise cancellation."""
    tc, tn = _traces_fn(apply, cfg, x_shape, lam_range, n_batches)(theta, phi, psi, key)
    tc, tn = float(tc), float(tn)
    return {"gradvar_cancel": tc, "gradvar_nocancel": tn, "gradvar_ratio": tn / tc}
