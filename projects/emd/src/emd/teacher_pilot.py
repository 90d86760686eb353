"""Pilot for the gate ``G_rare``: is the spread of the teacher's rare-mode recall estimator
noise or the teacher's fit?

``python -m emd.teacher_pilot --steps 6000 --n 5000 20000 --draws 10`` trains the cpu profile's
teacher for ``--steps`` Adam steps (the profile's schedule, seed 0), draws ``--draws``
independent sets of each ``--n`` samples from its 200-NFE sampler and prints the rare-mode
recall's mean and standard deviation beside the binomial prediction :func:`recall_sd` and each
mode's recovered fraction.
A spread that matches the prediction is estimator noise (more samples shrink it); a mean below
the criterion with a small spread is the teacher's fit (a longer-trained teacher raises it).
"""

from __future__ import annotations

import argparse
import time
from argparse import Namespace
from collections.abc import Callable

import jax
import numpy as np

from emd import train
from emd.configs import cpu
from emd.data import RARE_MODES, Mixture
from emd.metrics import mode_stats
from emd.model import Params, make_apply
from reprokit.jax_utils import data_mesh

Sampler = Callable[[Params, jax.Array], jax.Array]


def recovered_fraction(x: np.ndarray, mixture: Mixture, n_std: float = 4.0) -> np.ndarray:
    """Per mode, on-mode count / expected count ``w_k N`` (unclipped; ``mode_stats``' rule)."""
    d = np.linalg.norm(x[:, None, :] - mixture.means[None], axis=-1) / mixture.stds
    on = d.min(1) < n_std
    return np.bincount(d.argmin(1)[on], minlength=len(mixture.weights)) / (mixture.weights * len(x))


def recall_sd(fraction: np.ndarray, weights: np.ndarray, n: int) -> float:
    """Binomial standard deviation of the rare-mode recall ``mean_k count_k / (w_k n)``.

    ``count_k ~ Binomial(n, r_k w_k)`` with recovered fraction ``r_k``, so
    ``Var[count_k / (w_k n)] = r_k (1 − r_k w_k) / (w_k n)``; the mean over the ``M`` modes has
    ``sd = √(Σ_k Var_k) / M`` (the modes' small multinomial covariance is neglected; the
    ``min(1, ·)`` of ``mode_stats`` only shrinks it).
    """
    r, w = np.asarray(fraction, np.float64), np.asarray(weights, np.float64)
    return float(np.sqrt(np.sum(r * (1.0 - r * w) / (w * n))) / len(w))


def main(argv: list[str] | None = None) -> None:
    """Train the teacher, then measure the recall's spread over independent sample sets."""
    ap = argparse.ArgumentParser(prog="emd.teacher_pilot", description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=12000, help="teacher Adam steps")
    ap.add_argument("--n", type=int, nargs="+", default=[20000], help="samples per draw")
    ap.add_argument("--draws", type=int, default=3, help="independent sample sets")
    args = ap.parse_args(argv)
    cfg = cpu()
    cfg.teacher.steps = args.steps
    net = train.build_net(cfg.teacher, (2,))
    apply = make_apply(net)
    k_teacher, _, k_sample = jax.random.split(jax.random.key(cfg.teacher_seed), 3)
    t0 = time.perf_counter()
    psi, _ = train.train_teacher(cfg.teacher, net, RARE_MODES.sample, (2,), k_teacher, data_mesh())
    print(f"teacher: {args.steps} steps in {time.perf_counter() - t0:.0f} s", flush=True)
    for n in args.n:
        spread(psi, train.make_teacher_sampler(apply, cfg.teacher, n, (2,)), k_sample, n, args)


def spread(psi: Params, sampler: Sampler, key: jax.Array, n: int, args: Namespace) -> None:
    """Print the recall's mean and spread over ``args.draws`` sets of ``n`` teacher samples."""
    recalls, fractions = [], []
    for draw in range(args.draws):
        x = np.asarray(sampler(psi, jax.random.fold_in(key, draw)))
        recalls.append(mode_stats(x, RARE_MODES)["rare_recall"])
        fractions.append(recovered_fraction(x, RARE_MODES))
    frac, rare = np.mean(fractions, 0), RARE_MODES.rare
    print(
        f"teacher {args.steps} steps, rare-mode recall over {args.draws} draws of {n}: "
        f"mean {np.mean(recalls):.4f}, sd {np.std(recalls, ddof=1):.4f} (binomial prediction "
        f"{recall_sd(frac[rare], RARE_MODES.weights[rare], n):.4f}); recovered fraction per mode "
        f"(weights {RARE_MODES.weights.tolist()}): {np.round(frac, 3).tolist()}",
        flush=True,
    )


if __name__ == "__main__":
    main()
