"""The evidence of the CPU profile: gates, claims, and the ``reprokit.claims`` verdicts.

Every quality comparison is paired by distillation seed and uses **tail averages**
(``<metric>_tail/<method>``: the mean over the last ``TAIL`` evaluations of a run), declared
here before the profile's run. The central metric is the mode-weight KL, ``KL(true weights ‖
sample weights)`` on the rare-mode target, the quantity a mode-seeking update that drops mass
makes worse. Margins are 0 (neither the paper nor the research note gives one). Constants:

- C1's tolerance ``1e-5``: the research note's C1 ("test with fixed seeds to 1e-5");
- C2's ``100``: the research note's C2 asks for a 10× lower gradient *norm* with cancellation;
  the trace of the gradient covariance is quadratic in the gradient, so 10× in norm is 100× in
  the trace;
- the gates' ``0.8`` (teacher's rare-mode recall, ε-chain relaxation) and ``1`` (z drift vs
  injected noise, from issue 16: "the z-drift clearly exceeds the injected noise") are design
  criteria of this experiment, not numbers of the paper. The one-seed pilot (README) found
  the z drift below its noise at the largest stable γ_z, so ``G_zdrift`` gates only C4, the
  claim about the z-sampler; EMD-K vs Diff-Instruct (C3) is gated on the ε-chain's relaxation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reprokit.claims import Claim, Constant, Evidence, Gate

TAIL = 3  # evaluations averaged in the *_tail metrics (pre-registered)
TAIL_METRICS = ("mmd", "kl_weights", "rare_recall", "gradvar_ratio")
CENTRAL = "kl_weights"  # the central claim's metric (tail-averaged)
K_SWEEP = {"di": 1, "emd2": 2, "emd4": 4, "emd": 8, "emd16": 16}  # method -> K (C5)
C1_TOL = 1e-5
C2_RATIO = 100.0
CLAIM_IDS = ["C1", "C2", "C2q", "C3", "C3r", "C3m", "C3b", "C4", "C5", "C6", "C6b"]
RARE_RECALL_MIN = 0.8
RELAX_MIN = 0.8
Z_DRIFT_MIN = 1.0

GATES = [
    Gate(
        "G_teacher",
        "the teacher's own samples (200 NFE) fit the data better than a single Gaussian fitted "
        "to the data",
        metric="mmd/teacher",
        versus="mmd/gaussian_fit",
        direction="lower",
    ),
    Gate(
        "G_rare",
        "the teacher recovers the rare modes: rare-mode recall above 0.8",
        metric="rare_recall/teacher",
        versus=Constant(RARE_RECALL_MIN, "design criterion: 80% of the rare modes' mass"),
        direction="higher",
    ),
    Gate(
        "G_metric",
        "MMD² fails a wrong method: the initial generator (θ = ψ at λ*, ≈ the data mean) scores "
        "worse than the teacher",
        metric="mmd/generator_init",
        versus="mmd/teacher",
        direction="higher",
    ),
    Gate(
        "G_detect",
        "the mode-weight KL sees dropped mass: the teacher's samples with the rare modes removed "
        "(positive control) score worse than the teacher's samples",
        metric=f"{CENTRAL}/teacher_no_rare",
        versus=f"{CENTRAL}/teacher",
        direction="higher",
    ),
    Gate(
        "G_relax",
        "the E-step's ε-chain approaches its target: EMD-K's relaxation 1 − ⟨ε^K, ε⁰⟩/‖ε⁰‖² "
        "above 0.8",
        metric="relax_eps/emd",
        versus=Constant(RELAX_MIN, "design criterion: 80% relaxed"),
        direction="higher",
    ),
    Gate(
        "G_zdrift",
        "the E-step's z-chain moves: EMD-K's z drift exceeds its injected noise "
        "(rms(z^K − M^K) / rms(M^K − (1 − γ_z/2)^K z⁰) above 1)",
        metric="drift_to_noise_z/emd",
        versus=Constant(Z_DRIFT_MIN, "issue 16: drift clearly exceeds the injected noise"),
        direction="higher",
    ),
]
QUALITY = ("G_teacher", "G_metric")
RARE = (*QUALITY, "G_rare", "G_detect")
ESTEP = ("G_relax", "G_zdrift")  # C4 compares two z-samplers: it needs a z-chain that moves
PAPER_FID = "ImageNet-64 FID at 1 NFE: EMD 2.20 vs Diff-Instruct 5.57 (sCM paper, Table 1)"


def _beats(cid: str, text: str, metric: str, versus: str, gates: tuple, **kw) -> Claim:
    higher = metric.startswith("rare_recall")
    return Claim(
        cid, text, metric=metric, versus=versus, direction="higher" if higher else "lower",
        gates=gates, **kw,
    )  # fmt: skip


def claims(K: int) -> list[Claim]:
    """The claims for EMD-``K`` (the profile's ``distill.K``); C3 is central."""
    kl = f"{CENTRAL}_tail"
    return [
        Claim(
            "C1",
            "EMD-1 (ε only, noise cancelled) gives the Diff-Instruct generator gradient: "
            "max |Δgrad| / max |grad| below the tolerance",
            metric="c1/rel_grad_diff",
            versus=Constant(C1_TOL, "tolerance 1e-5 (research note, C1)"),
            direction="lower",
            paper="exact equivalence (EMD-1 ≈ Diff-Instruct, derived from the paper's equations)",
        ),
        Claim(
            "C2",
            f"at fixed states of the EMD-{K} run (θ, φ frozen; the same minibatches), noise "
            "cancellation cuts the trace of the generator-gradient covariance more than 100×",
            metric="gradvar_ratio_tail/emd",
            versus=Constant(C2_RATIO, "100× = (research note C2's 10× in norm)²"),
            direction="higher",
            gates=("G_teacher",),
            paper="cancellation lowers the gradient norm (Fig. 3a; qualitative, unverified)",
        ),
        _beats(
            "C2q",
            f"noise cancellation improves sample quality (EMD-{K}): lower tail mode-weight KL",
            f"{kl}/emd",
            f"{kl}/emd_nocancel",
            RARE,
            paper="cancellation lowers FID (Fig. 3b; qualitative, unverified)",
        ),
        _beats(
            "C3",
            f"EMD-{K} (ε, z) beats Diff-Instruct on the rare-mode target at matched generator "
            "steps: lower tail mode-weight KL",
            f"{kl}/emd",
            f"{kl}/di",
            (*RARE, "G_relax"),
            central=True,
            paper=PAPER_FID,
        ),
        _beats(
            "C3r",
            f"EMD-{K} (ε, z) recovers more rare-mode mass than Diff-Instruct: higher tail "
            "rare-mode recall",
            "rare_recall_tail/emd",
            "rare_recall_tail/di",
            (*RARE, "G_relax"),
            paper="ImageNet-64 recall: EMD-16 above DMD / Diff-Instruct [recalled]",
        ),
        _beats(
            "C3m",
            f"EMD-{K} (ε, z) beats Diff-Instruct: lower tail MMD²",
            "mmd_tail/emd",
            "mmd_tail/di",
            (*QUALITY, "G_relax"),
            paper=PAPER_FID,
        ),
        _beats(
            "C3b",
            "EMD-16 (ε, z) beats Diff-Instruct: lower tail mode-weight KL",
            f"{kl}/emd16",
            f"{kl}/di",
            RARE,
            paper=PAPER_FID,
        ),
        _beats(
            "C4",
            f"(ε, z) sampling beats (x, z) sampling at equal step size (EMD-{K}): lower tail "
            "mode-weight KL",
            f"{kl}/emd",
            f"{kl}/emd_xz",
            (*RARE, *ESTEP),
            paper="Table 1 (ImageNet-64, K = 8): (ε, z) best FID/IS (qualitative, unverified)",
        ),
        Claim(
            "C5",
            "quality improves with K ∈ {1, 2, 4, 8, 16} at matched generator steps: the per-seed "
            "least-squares slope of the tail mode-weight KL against log2 K is negative",
            metric=f"k_slope/{kl}",
            versus=Constant(0.0, "no trend"),
            direction="lower",
            gates=RARE,
            paper="Fig. 3c-d: FID falls and recall rises as K goes from 1 to 16 [recalled]",
        ),
        _beats(
            "C6",
            f"one step of the EMD-{K} generator beats the teacher's own sampler at 4 NFE: lower "
            "MMD²",
            "mmd_tail/emd",
            "mmd/teacher_nfe4",
            QUALITY,
            paper="ImageNet-64: EMD 1 NFE FID 2.20 vs teacher EDM 2.44 at 79 NFE",
        ),
        _beats(
            "C6b",
            f"one step of the EMD-{K} generator matches the teacher at 200 NFE: lower MMD²",
            "mmd_tail/emd",
            "mmd/teacher",
            QUALITY,
            paper="ImageNet-64: EMD 1 NFE FID 2.20 vs teacher EDM 2.44 at 79 NFE",
        ),
    ]


def needed(K: int) -> list[str]:
    """Every metric name a gate or claim reads."""
    specs = [*GATES, *claims(K)]
    names = [s.metric for s in specs] + [s.versus for s in specs if isinstance(s.versus, str)]
    return list(dict.fromkeys(names))


def evidence(
    profile: str,
    seeds: Sequence[int],
    K: int,
    per_seed: Mapping[str, Sequence[float | None]],
    once: Mapping[str, float] | None = None,
) -> Evidence:
    """Record every measurement and judge the gates and claims.

    Args:
        profile: the profile that produced the numbers.
        seeds: the distillation seeds, in the order of the per-seed values.
        K: the profile's ``distill.K`` (claim texts).
        per_seed: metric name -> one value per seed.
        once: metric name -> a number measured once (timings).

    A metric a gate or claim needs but the run did not measure (its method is not in
    ``--methods``, or the dataset has no such metric) is recorded as missing, so its claims
    become *untestable* rather than silently dropped.
    """
    ev = Evidence("emd", profile, seeds)
    for name, values in per_seed.items():
        ev.add(name, list(values), missing=_why_missing(values))
    for name, value in (once or {}).items():
        ev.add(name, value)
    for name in needed(K):
        if name not in per_seed:
            ev.add(
                name,
                [None] * len(seeds),
                missing="not measured in this run (method not run "
                "or the dataset has no such metric)",
            )
    ev.judge(GATES, claims(K))
    return ev


def _why_missing(values: Sequence[float | None]) -> str | None:
    if all(v is not None and v == v for v in values):
        return None
    return "not finite in some seed (see the run's JSONL log)"
