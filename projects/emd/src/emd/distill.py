"""EMD training: the student-score DSM step, the M-step, and one jitted EMD iteration.

One iteration (paper Alg. 1): ``student_updates`` denoising-score-matching steps of φ on
``sg(g_θ(z))``; then the E-step (``estep.langevin``) at noise levels drawn from the schedule;
then the M-step on θ. Diff-Instruct is the same iteration with ``K = 1``, ``space = "eps"`` and
noise cancellation (claim C1), and ``diff_instruct_loss`` is its standalone form for the test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from emd.configs import DistillConfig
from emd.diffusion import dsm_loss
from emd.estep import Chain, chain_diagnostics, langevin
from emd.model import ApplyFn, Params, generate, predict_eps, predict_x
from emd.schedule import alpha_sigma, expand, log_snr

ShardFn = Callable[[jax.Array], jax.Array]


class DistillState(NamedTuple):
    """Generator θ, student score φ, their Adam states, and the generator step count."""

    theta: Params
    phi: Params
    opt_theta: optax.OptState
    opt_phi: optax.OptState
    step: jax.Array


def weight(alpha: jax.Array, sigma: jax.Array, kind: str) -> jax.Array:
    """Noise-level weighting ``w(t)`` of the M-step: ``"eps"`` → ``σ/α``, ``"x"`` → ``σ²/α²``."""
    if kind == "eps":
        return sigma / alpha
    if kind == "x":
        return (sigma / alpha) ** 2
    raise ValueError(f"unknown weighting {kind!r}; expected 'eps' or 'x'")


def drift_factor(K: int, gamma_eps: float) -> float:
    """Total drift a K-step ε-chain applies to a constant force: ``1 − (1 − γ_ε/2)^K``."""
    return 1.0 - (1.0 - 0.5 * gamma_eps) ** K


def mstep_loss(
    theta: Params,
    apply: ApplyFn,
    chain: Chain,
    alpha: jax.Array,
    sigma: jax.Array,
    w: jax.Array,
    lambda_star: float,
    cancel_noise: bool,
    scale: float,
) -> jax.Array:
    """Surrogate whose θ-gradient is ``−E[w ∇_θ log p_θ(x_t^K | z^K)] / scale``.

    ``∇_θ log p_θ(x_t^K | z^K) = (α/σ) (ε^K)ᵀ ∂g_θ(z^K)/∂θ`` with ``ε^K = (x_t^K − α g_θ(z^K))/σ``;
    with noise cancellation ``ε^K`` is replaced by ``ε^K − N^K``. ``scale`` is the drift factor, so
    that chains of different K share one effective learning rate.
    """
    r = chain.eps - chain.noise if cancel_noise else chain.eps
    r = jax.lax.stop_gradient(r) / scale  # (B, ...)
    x = generate(apply, theta, jax.lax.stop_gradient(chain.z), lambda_star)  # (B, ...)
    coef = w * alpha / sigma  # (B,)
    return -jnp.mean(coef * jnp.sum((r * x).reshape(x.shape[0], -1), axis=-1))


def diff_instruct_loss(
    theta: Params,
    apply: ApplyFn,
    psi: Params,
    phi: Params,
    z: jax.Array,
    eps: jax.Array,
    lam: jax.Array,
    w_di: jax.Array,
    lambda_star: float,
) -> jax.Array:
    """Diff-Instruct generator loss ``E[w_DI(t) · sg(x̂_φ(x_t) − x̂_ψ(x_t)) · g_θ(z)]``.

    ``x_t = α sg(g_θ(z)) + σ ε``; the official code uses ``w_DI = 1``. Its gradient equals EMD-1's
    (ε only, cancelled) when ``w_DI = w · α²/σ²`` (claim C1).
    """
    x = generate(apply, theta, z, lambda_star)
    alpha, sigma = alpha_sigma(lam)
    x_t = expand(alpha, x) * jax.lax.stop_gradient(x) + expand(sigma, x) * eps
    d = jax.lax.stop_gradient(predict_x(apply, phi, x_t, lam) - predict_x(apply, psi, x_t, lam))
    return jnp.mean(w_di * jnp.sum((d * x).reshape(x.shape[0], -1), axis=-1))


def sample_levels(key: jax.Array, B: int, cfg: DistillConfig, lam_range: tuple[float, float]):
    """``λ_t`` for the E/M-step, ``u ~ U(u_min, u_max)`` through the teacher's schedule."""
    u = jax.random.uniform(key, (B,), minval=cfg.u_min, maxval=cfg.u_max)
    return log_snr(u, *lam_range)


def make_optimizers(cfg: DistillConfig) -> tuple[optax.GradientTransformation, ...]:
    """Adam for θ and φ with the configured ``(β1, β2)`` (the paper uses ``β1 = 0``)."""
    opt_theta = optax.adam(cfg.lr_g, b1=cfg.b1, b2=cfg.b2)
    opt_phi = optax.adam(cfg.lr_s, b1=cfg.b1, b2=cfg.b2)
    return opt_theta, opt_phi


def init_state(cfg: DistillConfig, psi: Params) -> DistillState:
    """θ and φ both start as copies of the teacher ψ (paper §3.4)."""
    opt_theta, opt_phi = make_optimizers(cfg)
    theta = jax.tree.map(jnp.array, psi)
    phi = jax.tree.map(jnp.array, psi)
    return DistillState(
        theta, phi, opt_theta.init(theta), opt_phi.init(phi), jnp.zeros((), jnp.int32)
    )


def generator_grad(
    apply: ApplyFn,
    cfg: DistillConfig,
    theta: Params,
    phi: Params,
    psi: Params,
    lam: jax.Array,
    eps0: jax.Array,
    z0: jax.Array,
    key: jax.Array,
) -> tuple[jax.Array, Params, Chain]:
    """E-step from ``(ε⁰, z⁰)`` at log-SNR ``λ (B,)`` then the M-step gradient w.r.t. θ."""
    alpha, sigma = alpha_sigma(lam)

    def g(z: jax.Array) -> jax.Array:
        return generate(apply, theta, z, cfg.lambda_star)

    def eps_diff(x_t: jax.Array) -> jax.Array:
        return predict_eps(apply, phi, x_t, lam) - predict_eps(apply, psi, x_t, lam)

    chain = langevin(
        g, eps_diff, eps0, z0, alpha, sigma, key, cfg.K, cfg.gamma_eps, cfg.gamma_z, cfg.space
    )
    w = weight(alpha, sigma, cfg.weighting)
    scale = drift_factor(cfg.K, cfg.gamma_eps)
    loss, grads = jax.value_and_grad(mstep_loss)(
        theta, apply, chain, alpha, sigma, w, cfg.lambda_star, cfg.cancel_noise, scale
    )
    return loss, grads, chain


_C1_FNS: dict[tuple, Callable] = {}


def _c1_fn(
    apply: ApplyFn, c: DistillConfig, x_shape: tuple[int, ...], lam_range: tuple[float, float]
) -> Callable:
    """Jitted ``(ψ, φ, key) -> (g_EMD, g_DI)`` for C1, cached so that repeated draws (one per
    seed) share one compilation."""
    cache_key = (id(apply), repr(c), x_shape, lam_range)
    if cache_key not in _C1_FNS:

        @jax.jit
        def both_grads(psi: Params, phi: Params, key: jax.Array):
            k_lam, k_eps, k_z, k_chain = jax.random.split(key, 4)
            lam = sample_levels(k_lam, c.batch, c, lam_range)
            eps0 = jax.random.normal(k_eps, (c.batch, *x_shape))
            z0 = jax.random.normal(k_z, (c.batch, *x_shape))
            _, g_emd, _ = generator_grad(apply, c, psi, phi, psi, lam, eps0, z0, k_chain)
            alpha, sigma = alpha_sigma(lam)
            w_di = weight(alpha, sigma, c.weighting) * (alpha / sigma) ** 2
            g_di = jax.grad(diff_instruct_loss)(
                psi, apply, psi, phi, z0, eps0, lam, w_di, c.lambda_star
            )
            return g_emd, g_di

        _C1_FNS[cache_key] = both_grads
    return _C1_FNS[cache_key]


def c1_gradients(
    apply: ApplyFn,
    psi: Params,
    cfg: DistillConfig,
    x_shape: tuple[int, ...],
    lam_range: tuple[float, float],
    key: jax.Array,
    perturb: float = 0.05,
    cancel_noise: bool = True,
) -> dict[str, float]:
    """Claim C1: EMD-1 (ε only, cancelled) gradient vs the Diff-Instruct gradient.

    θ = ψ and φ = ψ + ``perturb``·noise (so that ``ε̂_φ ≠ ε̂_ψ``); same ``λ, z, ε⁰``; DI weighted by
    ``w_DI = w α²/σ²``. Returns the max-abs difference relative to the max-abs DI gradient.
    ``cancel_noise=False`` is the negative control (the equivalence must then fail). Computed
    in float64.
    """
    with jax.enable_x64(True):  # float32 round-off of ε¹ − N¹ alone is ≈ 1e-5 relative
        psi = jax.tree.map(lambda p: jnp.asarray(p, jnp.float64), psi)
        k_phi, k_rest = jax.random.split(key)
        leaves, treedef = jax.tree.flatten(psi)
        ks = jax.random.split(k_phi, len(leaves))
        phi = jax.tree.unflatten(
            treedef, [p + perturb * jax.random.normal(k, p.shape) for p, k in zip(leaves, ks)]
        )
        c = dataclasses.replace(cfg, K=1, space="eps", cancel_noise=cancel_noise)
        g_emd, g_di = _c1_fn(apply, c, x_shape, lam_range)(psi, phi, k_rest)
        pairs = list(zip(jax.tree.leaves(g_emd), jax.tree.leaves(g_di)))
        diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in pairs)
        scale = max(float(jnp.max(jnp.abs(b))) for _, b in pairs)
    return {"max_abs_diff": diff, "max_abs_grad": scale, "rel_diff": diff / scale}


def make_train_step(
    apply: ApplyFn,
    cfg: DistillConfig,
    x_shape: tuple[int, ...],
    lam_range: tuple[float, float],
    shard: ShardFn = lambda x: x,
) -> Callable[[DistillState, jax.Array, Params], tuple[DistillState, dict]]:
    """Build ``step(state, key, ψ) -> (state, logs)``: φ DSM updates, E-step, M-step.

    ``x_shape`` is one example's shape; randomness is ``fold_in(key, state.step)`` so a resumed
    run sees the same numbers. ``shard`` constrains batch arrays to the data mesh.
    """
    opt_theta, opt_phi = make_optimizers(cfg)
    B = cfg.batch

    def student_update(carry, k):
        phi, opt_state, theta = carry
        k_z, k_dsm = jax.random.split(k)
        z = shard(jax.random.normal(k_z, (B, *x_shape)))
        x0 = jax.lax.stop_gradient(generate(apply, theta, z, cfg.lambda_star))
        loss, grads = jax.value_and_grad(dsm_loss, argnums=1)(apply, phi, x0, k_dsm, *lam_range)
        updates, opt_state = opt_phi.update(grads, opt_state, phi)
        return (optax.apply_updates(phi, updates), opt_state, theta), loss

    def step(state: DistillState, key: jax.Array, psi: Params) -> tuple[DistillState, dict]:
        key = jax.random.fold_in(key, state.step)
        k_s, k_lam, k_eps, k_z, k_chain = jax.random.split(key, 5)
        (phi, opt_phi_state, _), dsm = jax.lax.scan(
            student_update,
            (state.phi, state.opt_phi, state.theta),
            jax.random.split(k_s, cfg.student_updates),
        )
        lam = sample_levels(k_lam, B, cfg, lam_range)  # (B,)
        eps0 = shard(jax.random.normal(k_eps, (B, *x_shape)))
        z0 = shard(jax.random.normal(k_z, (B, *x_shape)))
        loss, grads, chain = generator_grad(
            apply, cfg, state.theta, phi, psi, lam, eps0, z0, k_chain
        )
        updates, opt_theta_state = opt_theta.update(grads, state.opt_theta, state.theta)
        theta = optax.apply_updates(state.theta, updates)
        logs = {
            "grad_norm": optax.tree.norm(grads),
            "mstep_loss": loss,
            "dsm_loss": jnp.mean(dsm),
            **chain_diagnostics(chain, eps0, z0, cfg.K, cfg.gamma_eps, cfg.gamma_z, lam),
        }
        new = DistillState(theta, phi, opt_theta_state, opt_phi_state, state.step + 1)
        return new, logs

    return step
