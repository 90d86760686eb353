"""Pilot for issue 16 item 3: why the z-chain's drift stays below its noise, and which γ_z lets
the E-step approach ρ.

``python -m emd.estep_pilot`` trains the cpu profile's teacher and one EMD-8 run (seed 0, the
training γ_z given by ``--train-gamma-z``), then, at the final state (θ, φ frozen):

1. per log-SNR λ: the z-drift's likelihood force ``(α/σ) J_gᵀ(ε̂_φ − ε̂_ψ)`` (rms over chains)
   and the K-step drift-to-noise ratio of z (``estep.chain_diagnostics``);
2. per γ_z in ``--gamma-z``: the E-step's ``KL(q_K(x_t) ‖ p_t)`` for K = 0 … 16 and with z
   frozen (``estep_kl.estep_kl``).

It prints one line per row (CPU-profile numbers; about 5 minutes on a shared 2-core machine).
"""

from __future__ import annotations

import argparse
import dataclasses

import jax
import jax.numpy as jnp

from emd import data as data_mod
from emd import train
from emd.configs import cpu
from emd.estep import chain_diagnostics, langevin
from emd.estep_kl import estep_kl
from emd.model import Params, generate, make_apply, predict_eps
from emd.schedule import alpha_sigma
from reprokit.jax_utils import data_mesh

LAMBDAS = (-6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0)


def force_by_level(apply, d, theta: Params, phi: Params, psi: Params, n: int = 1024) -> None:
    """Print, per λ, the rms z likelihood force and the z drift-to-noise ratio after K steps."""
    for lam0 in LAMBDAS:
        lam = jnp.full((n,), lam0)
        alpha, sigma = alpha_sigma(lam)
        key = jax.random.fold_in(jax.random.key(7), int(10 * lam0) + 100)
        k_e, k_z, k_c = jax.random.split(key, 3)
        eps0, z0 = jax.random.normal(k_e, (n, 2)), jax.random.normal(k_z, (n, 2))

        def g(z):
            return generate(apply, theta, z, d.lambda_star)

        def eps_diff(x_t, lam=lam):
            return predict_eps(apply, phi, x_t, lam) - predict_eps(apply, psi, x_t, lam)

        x_gen, vjp = jax.vjp(g, z0)
        delta = eps_diff(alpha[:, None] * x_gen + sigma[:, None] * eps0)
        (force,) = vjp((alpha / sigma)[:, None] * delta)
        chain = langevin(g, eps_diff, eps0, z0, alpha, sigma, k_c, d.K, d.gamma_eps, d.gamma_z)
        diag = chain_diagnostics(chain, eps0, z0, d.K, d.gamma_eps, d.gamma_z, lam)
        print(
            f"lambda={lam0:+.0f} z_force_rms={float(jnp.sqrt(jnp.mean(force**2))):.3g} "
            f"z_drift_to_noise={float(diag['drift_to_noise_z']):.3f}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    """Parse the options, train teacher and one EMD run, print both tables."""
    ap = argparse.ArgumentParser(prog="emd.estep_pilot", description=__doc__.split("\n")[0])
    ap.add_argument("--train-gamma-z", type=float, default=0.03, help="γ_z while training")
    ap.add_argument("--gamma-z", type=float, nargs="+", default=[0, 1e-4, 1e-3, 4e-3, 0.03])
    args = ap.parse_args(argv)
    cfg = cpu()
    mesh, (sample, x_shape, _) = data_mesh(), data_mod.load(cfg.data)
    net = train.build_net(cfg.teacher, x_shape)
    apply, lam_range = make_apply(net), (cfg.teacher.lambda_min, cfg.teacher.lambda_max)
    psi, _ = train.train_teacher(cfg.teacher, net, sample, x_shape, jax.random.key(0), mesh)
    d = dataclasses.replace(cfg.distill, gamma_z=args.train_gamma_z)
    state, _ = train.distill(
        d, apply, psi, x_shape, lam_range, jax.random.key(1000), mesh, 250, lambda s, i: {}
    )
    force_by_level(apply, d, state.theta, state.phi, psi)
    for gz in args.gamma_z:
        r = estep_kl(
            apply,
            dataclasses.replace(d, gamma_z=gz),
            state.theta,
            state.phi,
            psi,
            data_mod.RARE_MODES,
            jax.random.key(5),
        )
        print(f"gamma_z={gz:g} " + " ".join(f"{k}={v:.3f}" for k, v in r.items()), flush=True)


if __name__ == "__main__":
    main()
