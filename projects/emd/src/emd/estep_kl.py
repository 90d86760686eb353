"""How close the E-step gets to its target ρ: the KL of the chain's x_t-marginal to ``p_t``.

The E-step targets ``ρ_t(ε, z) ∝ p_t(x_t)/p_{θ,t}(x_t) N(ε; 0, I) N(z; 0, I)`` with
``x_t = α_t g_θ(z) + σ_t ε``; pushed through ``(ε, z) ↦ x_t`` it is exactly ``p_t`` (the
``p_{θ,t}`` factor cancels the generator's noisy marginal). By the data-processing inequality

    KL(q_K(ε, z) ‖ ρ_t) ≥ KL(q_K(x_t) ‖ p_t) = −H(q_K(x_t)) − E_{q_K} log p_t(x_t),

and on a 2-D Gaussian mixture ``log p_t`` is exact (component ``k`` becomes
``N(α_t μ_k, (α_t² s_k² + σ_t²) I)``), while the entropy of the chain's samples is estimated by
the Kozachenko-Leonenko k-nearest-neighbour estimator. ``K = 0`` is the chain's start (the
generator's noisy marginal ``p_{θ,t}``); a chain that approaches ρ lowers the KL as K grows
(issue 16, item 3). The chains use the student score, as in training, so ``ρ`` is the target
of the E-step that the M-step actually sees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln, logsumexp

from emd.configs import DistillConfig
from emd.data import Mixture
from emd.estep import langevin
from emd.model import ApplyFn, Params, generate, predict_eps
from emd.schedule import alpha_sigma

KL_KS: tuple[int, ...] = (0, 1, 2, 4, 8, 16)  # chain lengths measured (0 = the start)
KL_LAMBDAS: tuple[float, ...] = (0.0, 2.0, 4.0, 6.0)  # log-SNRs averaged (SNR ≥ 1)


def knn_entropy(x: np.ndarray, k: int = 5) -> float:
    """Kozachenko-Leonenko entropy (nats) of samples ``x (N, d)``:
    ``ψ(N) − ψ(k) + log V_d + d · mean log r_k`` (``r_k``: distance to the k-th neighbour)."""
    n, d = x.shape
    r = cKDTree(x).query(x, k + 1)[0][:, -1]  # (N,) the first neighbour is the point itself
    log_vd = 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1)
    return float(digamma(n) - digamma(k) + log_vd + d * np.mean(np.log(r)))


def mixture_log_density(mixture: Mixture, x: np.ndarray, alpha: float, sigma: float) -> np.ndarray:
    """``log p_t(x) (N,)`` of the noised 2-D mixture: ``Σ_k w_k N(x; α μ_k, (α² s_k² + σ²) I)``."""
    var = alpha**2 * mixture.stds**2 + sigma**2  # (M,)
    sq = np.sum((x[:, None, :] - alpha * mixture.means[None]) ** 2, axis=-1)  # (N, M)
    log_comp = np.log(mixture.weights) - np.log(2 * np.pi * var) - 0.5 * sq / var  # d = 2
    return logsumexp(log_comp, axis=1)


def marginal_kl(x: np.ndarray, log_p: np.ndarray) -> float:
    """``KL(q ‖ p) = −H(q) − E_q log p`` from samples ``x`` of ``q`` and ``log p(x)``."""
    return -knn_entropy(x) - float(np.mean(log_p))


_FNS: dict[tuple, Callable] = {}


def _step_fn(apply: ApplyFn, cfg: DistillConfig, space: str) -> Callable:
    """Jitted ``(θ, φ, ψ, λ (B,), ε, z, key) -> (ε', z', x_t')``: one Langevin step in ``space``
    (the chain is Markov in (ε, z), so K calls are a K-step chain; one compilation for all K)."""
    cache_key = (id(apply), repr(cfg), space)
    if cache_key not in _FNS:

        @jax.jit
        def step(theta, phi, psi, lam, eps, z, key):
            alpha, sigma = alpha_sigma(lam)

            def g(z):
                return generate(apply, theta, z, cfg.lambda_star)

            def eps_diff(x_t):
                return predict_eps(apply, phi, x_t, lam) - predict_eps(apply, psi, x_t, lam)

            chain = langevin(
                g, eps_diff, eps, z, alpha, sigma, key, 1, cfg.gamma_eps, cfg.gamma_z, space
            )
            return chain.eps, chain.z, alpha[:, None] * g(chain.z) + sigma[:, None] * chain.eps

        _FNS[cache_key] = step
    return _FNS[cache_key]


def estep_kl(
    apply: ApplyFn,
    cfg: DistillConfig,
    theta: Params,
    phi: Params,
    psi: Params,
    mixture: Mixture,
    key: jax.Array,
    n: int = 4000,
    Ks: Sequence[int] = KL_KS,
    lambdas: Sequence[float] = KL_LAMBDAS,
) -> dict[str, float]:
    """``estep_kl_K<K>``: the mean over ``lambdas`` of ``KL(q_K(x_t) ‖ p_t)`` for the (ε, z) chain
    (``n`` chains per level, the same starts and noise keys for every K); ``estep_kl_slope``:
    its least-squares slope against log2 K over the K ≥ 1 (negative = longer chains get
    closer); ``estep_kl_eps``: the ``cfg.K``-step chain with z frozen (does moving z help?)."""
    lam = jnp.repeat(jnp.asarray(lambdas, jnp.float32), n)  # (L n,)
    k_eps, k_z, k_chain = jax.random.split(key, 3)
    eps0, z0 = (
        jax.random.normal(k_eps, (lam.shape[0], 2)),
        jax.random.normal(k_z, (lam.shape[0], 2)),
    )
    alpha, sigma = alpha_sigma(lam)
    x0 = alpha[:, None] * generate(apply, theta, z0, cfg.lambda_star) + sigma[:, None] * eps0

    def kl(x: jax.Array) -> float:
        x, kls = np.asarray(x, np.float64), []
        for i, lam_i in enumerate(lambdas):
            a, s = (float(v) for v in alpha_sigma(jnp.asarray(lam_i)))
            xi = x[i * n : (i + 1) * n]
            kls.append(marginal_kl(xi, mixture_log_density(mixture, xi, a, s)))
        return float(np.mean(kls))

    def chain_kls(space: str, lengths: Sequence[int]) -> dict[int, float]:
        step, (eps, z, x), out = _step_fn(apply, cfg, space), (eps0, z0, x0), {}
        for k in range(max(lengths) + 1):
            if k in lengths:
                out[k] = kl(x)
            eps, z, x = step(theta, phi, psi, lam, eps, z, jax.random.fold_in(k_chain, k))
        return out

    out = {f"estep_kl_K{K}": v for K, v in chain_kls("eps_z", Ks).items()}
    out["estep_kl_eps"] = chain_kls("eps", [cfg.K])[cfg.K]
    pos = [K for K in Ks if K > 0]
    out["estep_kl_slope"] = float(
        np.polyfit(np.log2(pos), [out[f"estep_kl_K{K}"] for K in pos], 1)[0]
    )
    return out
