"""The evidence of ``damc.reproduce``: gates, claims and the per-seed metrics they are judged on.

Every verdict follows the one rule of ``reprokit.claims`` (paired per-seed differences, 90%
Student-t interval, margin δ); nothing here decides a verdict by itself.

Metric names (one value per seed, in the order of ``cfg.seeds``):

* ``toy/arm_err/<sampler>``: per-x arm-weight error against the exact grid posterior
  (``toy.per_x_arm_errors``; ``exact`` is the sampling floor, ``prior`` ignores x);
  ``toy/arm_err_excess/longrun`` = long-run minus the floor (gate G_ref).
* ``toy/pooled_mmd/<sampler>``: MMD² of pooled posterior samples vs prior samples (a necessary
  condition only: a sampler that ignores x scores well on it, issue 18).
* ``digits/recon_mse/<method>`` with ``digits/recon_mse/train_mean`` (the training-mean image as
  the prediction of every test digit), ``digits/proxy_fid/<method>``, ``digits/auprc/<method>``,
  ``digits/proxy_net_acc`` (the proxy-FID feature net's accuracy on the seed's normal test digits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reprokit.claims import Claim, Constant, Evidence, Gate

# G_ref tolerance, pre-registered before the run: the long-run reference may exceed the exact-
# sampling floor of the per-x arm-weight error by < 0.05 (5 points of arm mass per x). Issue 18
# measured a gap of 0.11 between short-run Langevin (0.20) and the floor (0.086): a reference
# off by more than about half that gap cannot tell a good sampler from short-run.
REF_TOLERANCE = 0.05
# G_feat threshold: reprokit.proxy documents ≈ 0.98 test accuracy for its feature net; 0.9 (vs
# chance 0.1) is the sanity floor below which its features say little about digit identity.
FEATURE_ACC = 0.90

_UNVERIFIED = "numbers in the note are [recalled], not quoted"

GATES = [
    Gate(
        "G_ref",
        "Toy: long-run Langevin (toy.longrun_steps) matches the exact grid posterior per x "
        f"(arm-weight error above the exact-sampling floor below the tolerance {REF_TOLERANCE})",
        metric="toy/arm_err_excess/longrun",
        versus=Constant(REF_TOLERANCE, "pre-registered tolerance"),
        direction="lower",
    ),
    Gate(
        "G_fit_damc",
        "Digits: the DAMC model reconstructs held-out digits better than the training-mean image",
        metric="digits/recon_mse/damc",
        versus="digits/recon_mse/train_mean",
        direction="lower",
    ),
    Gate(
        "G_fit_lebm",
        "Digits: the LEBM model reconstructs held-out digits better than the training-mean image",
        metric="digits/recon_mse/lebm",
        versus="digits/recon_mse/train_mean",
        direction="lower",
    ),
    Gate(
        "G_feat",
        f"Digits: the proxy-FID feature net classifies the normal test digits (accuracy > "
        f"{FEATURE_ACC})",
        metric="digits/proxy_net_acc",
        versus=Constant(FEATURE_ACC, "sanity floor"),
        direction="higher",
    ),
]
_FIT = ("G_fit_damc", "G_fit_lebm")

CLAIMS = [
    Claim(
        "C1",
        "Digits: DAMC's prior + generator samples beat LEBM's (proxy-FID, lower)",
        metric="digits/proxy_fid/damc",
        versus="digits/proxy_fid/lebm",
        direction="lower",
        central=True,
        gates=(*_FIT, "G_feat"),
        paper=f"Table 1: DAMC FID below LEBM on SVHN, CIFAR-10, CelebA-64 ({_UNVERIFIED})",
    ),
    Claim(
        "C2",
        "Digits: DAMC reconstructs held-out digits better than LEBM (test MSE, lower)",
        metric="digits/recon_mse/damc",
        versus="digits/recon_mse/lebm",
        direction="lower",
        gates=_FIT,
        paper=f"test MSE of DAMC below LEBM's (CIFAR-10, SVHN, CelebA; {_UNVERIFIED})",
    ),
    Claim(
        "C3",
        "Digits: DAMC detects the held-out class better than LEBM (AUPRC; each seed holds out a "
        "different class, so seed and class are confounded)",
        metric="digits/auprc/damc",
        versus="digits/auprc/lebm",
        direction="higher",
        gates=_FIT,
        paper=f"MNIST, held-out digits 1/4/5/7/9: DAMC AUPRC above LEBM's for each ({_UNVERIFIED})",
    ),
    Claim(
        "C4",
        "Toy: DAMC's posterior is closer to the exact posterior per x than short-run Langevin "
        "with the same Langevin steps (arm-weight error, lower)",
        metric="toy/arm_err/damc",
        versus="toy/arm_err/shortrun",
        direction="lower",
        gates=("G_ref",),
        paper="toy figure (qualitative): q_φ matches the long-run Langevin posterior; no number",
    ),
    Claim(
        "C5",
        "Toy: DAMC's pooled posterior is closer to the prior than short-run Langevin's (MMD², "
        "lower; a necessary condition only)",
        metric="toy/pooled_mmd/damc",
        versus="toy/pooled_mmd/shortrun",
        direction="lower",
        paper="toy figure (qualitative); no number",
    ),
]


def _needed() -> list[str]:
    names = [s.metric for s in [*GATES, *CLAIMS]]
    names += [s.versus for s in [*GATES, *CLAIMS] if isinstance(s.versus, str)]
    return list(dict.fromkeys(names))


def build_evidence(
    profile: str,
    seeds: Sequence[int],
    per_seed: Mapping[str, Sequence[float]],
    once: Mapping[str, float] | None = None,
) -> Evidence:
    """Record every metric (``per_seed``: one value per seed; ``once``: measured once), mark the
    ones a gate or claim needs but this run did not measure, and judge GATES and CLAIMS."""
    ev = Evidence("damc", profile, seeds)
    for name, values in per_seed.items():
        ev.add(name, list(values))
    for name, value in (once or {}).items():
        ev.add(name, value)
    for name in _needed():
        if name not in ev.metrics:
            ev.add(name, [None] * len(ev.seeds), missing="not measured in this run's config")
    ev.judge(GATES, CLAIMS)
    return ev
