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
  criteria of this experiment, not numbers of the paper. ``G_zdrift`` (issue 16's criterion)
  is reported but gates no claim: the pilot (README) found that a γ_z raising the z
  drift-to-noise ratio (0.03) lowers the E-step's KL to its target half as much as
  γ_z = 0.001, whose drift stays below its noise. What the claims about the E-step need is an E-step
  that approaches ρ, measured directly: ``G_relax`` (ε-chain) and ``G_zkl`` (z-chain: moving z
  lowers the chain's KL to its target). EMD-K vs Diff-Instruct (C3*) and (ε, z) vs (x, z) (C4)
  are gated on both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from emd.estep_kl import KL_KS
from reprokit.claims import Claim, Constant, Evidence, Gate

TAIL = 3  # evaluations averaged in the *_tail metrics (pre-registered)

TAIL_METRICS = (
    "mmd",
    "kl_weights",
    "rare_recall",
    "gradvar_ratio",
    "estep_kl_slope",
    "estep_kl_eps",
    "proxy_fid",
    "recall",
    *(f"estep_kl_K{k}" for k in KL_KS),
)
CENTRAL = "kl_weights"  # the central claim's metric (tail-averaged)
K_SWEEP = {"di": 1, "emd2": 2, "emd4": 4, "emd": 8, "emd16": 16}  # method -> K (C5)
C1_TOL = 1e-5
C2_RATIO = 100.0
CLAIM_IDS = ["C1", "C2", "C2q", "C3", "C3r", "C3m", "C3b", "C4", "C5", "C6", "C6b", "C7"]
EIGHT_MODE_CLAIMS = ("C1", "C2", "C3", "C3r", "C3m", "C6", "C6b", "C7")  # need only di and emd
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
        "the E-step's z-chain moves where its target differs from its prior: EMD-K's z drift "
        "exceeds its injected noise at SNR > 1 (rms(z^K − M^K) / rms(M^K − (1 − γ_z/2)^K z⁰) "
        "over the chains at λ_t > 0, above 1)",
        metric="drift_to_noise_z_snr1/emd",
        versus=Constant(Z_DRIFT_MIN, "issue 16: drift clearly exceeds the injected noise"),
        direction="higher",
    ),
]


def z_kl_gate(K: int) -> Gate:
    """``G_zkl``: moving z brings the profile's K-step E-step closer to ρ (``estep_kl.py``)."""
    return Gate(
        "G_zkl",
        f"the E-step's z-chain does its job: after K = {K} steps the (ε, z) chain's tail "
        "KL(q_K(x_t) ‖ p_t) (a lower bound on its KL to ρ) is lower than the same chain's with z "
        "frozen",
        metric=f"estep_kl_K{K}_tail/emd",
        versus="estep_kl_eps_tail/emd",
        direction="lower",
    )


QUALITY = ("G_teacher", "G_metric")
RARE = (*QUALITY, "G_rare", "G_detect")
ESTEP = ("G_relax", "G_zkl")  # an E-step whose ε- and z-chains approach ρ
PAPER_FID = "ImageNet-64 FID at 1 NFE: EMD 2.20 vs Diff-Instruct 5.57 (sCM paper, Table 1)"


def _beats(cid: str, text: str, metric: str, versus: str, gates: tuple, **kw) -> Claim:
    higher = metric.startswith(("rare_recall", "recall"))
    return Claim(
        cid, text, metric=metric, versus=versus, direction="higher" if higher else "lower",
        gates=gates, **kw,
    )  # fmt: skip


def claims(K: int, target: str = "rare-mode") -> list[Claim]:
    """The claims for EMD-``K`` (the profile's ``distill.K``) on a 2-D ``target``; C3 is
    central."""
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
            f"EMD-{K} (ε, z) beats Diff-Instruct on the {target} target at matched generator "
            "steps: lower tail mode-weight KL",
            f"{kl}/emd",
            f"{kl}/di",
            (*RARE, *ESTEP),
            central=True,
            paper=PAPER_FID,
        ),
        _beats(
            "C3r",
            f"EMD-{K} (ε, z) recovers more rare-mode mass than Diff-Instruct: higher tail "
            "rare-mode recall",
            "rare_recall_tail/emd",
            "rare_recall_tail/di",
            (*RARE, *ESTEP),
            paper="ImageNet-64 recall: EMD-16 above DMD / Diff-Instruct [recalled]",
        ),
        _beats(
            "C3m",
            f"EMD-{K} (ε, z) beats Diff-Instruct: lower tail MMD²",
            "mmd_tail/emd",
            "mmd_tail/di",
            (*QUALITY, *ESTEP),
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
        Claim(
            "C7",
            f"longer E-step chains approach their target ρ (states of the EMD-{K} run): the "
            "per-seed slope of the tail KL(q_K(x_t) ‖ p_t) (a lower bound on KL(q_K ‖ ρ)) "
            "against log2 K, K ∈ {1, 2, 4, 8, 16}, is negative",
            metric="estep_kl_slope_tail/emd",
            versus=Constant(0.0, "no trend"),
            direction="lower",
            gates=("G_teacher", "G_relax"),
            paper="the E-step's MCMC moves samples towards ρ (§3.2; qualitative)",
        ),
    ]


DIGITS_GATES = [
    Gate(
        "G_teacher_d",
        "the teacher beats a trivial generator: its 200-NFE samples have a lower proxy-FID than "
        "a single Gaussian fitted to the training digits",
        metric="proxy_fid/teacher",
        versus="proxy_fid/gaussian_fit",
        direction="lower",
    ),
    Gate(
        "G_metric_d",
        "proxy-FID fails a wrong method: the initial generator (θ = ψ at λ*) scores worse than "
        "the teacher",
        metric="proxy_fid/generator_init",
        versus="proxy_fid/teacher",
        direction="higher",
    ),
    GATES[4],  # G_relax
]
DIGITS = ("G_teacher_d", "G_metric_d")


def digits_claims(K: int) -> list[Claim]:
    """The digits profile's claims (EMD-``K`` vs Diff-Instruct); D1 is central there."""
    return [
        _beats(
            "D1",
            f"digits: EMD-{K} (ε, z) beats Diff-Instruct at matched generator steps: lower tail "
            "proxy-FID",
            "proxy_fid_tail/emd",
            "proxy_fid_tail/di",
            (*DIGITS, "G_relax"),
            central=True,
            paper=PAPER_FID,
        ),
        _beats(
            "D1r",
            f"digits: EMD-{K} (ε, z) has higher tail recall (k-NN, proxy features) than "
            "Diff-Instruct",
            "recall_tail/emd",
            "recall_tail/di",
            (*DIGITS, "G_relax"),
            paper="ImageNet-64 recall: EMD-16 above DMD / Diff-Instruct [recalled]",
        ),
    ]


def spec(dataset: str, K: int) -> tuple[list[Gate], list[Claim]]:
    """The gates and claims of a dataset: digits has its own; the 2-D mixtures share the gates,
    and the 8-mode secondary (``mixture2d``, Diff-Instruct vs EMD-K only) declares the claims
    those two runs can decide (``EIGHT_MODE_CLAIMS``)."""
    if dataset == "digits":
        return DIGITS_GATES, digits_claims(K)
    if dataset == "mixture2d":
        eight = [c for c in claims(K, "8-mode") if c.id in EIGHT_MODE_CLAIMS]
        return [*GATES, z_kl_gate(K)], eight
    return [*GATES, z_kl_gate(K)], claims(K)


def needed(dataset: str, K: int) -> list[str]:
    """Every metric name a gate or claim reads."""
    specs = [*spec(dataset, K)[0], *spec(dataset, K)[1]]
    names = [s.metric for s in specs] + [s.versus for s in specs if isinstance(s.versus, str)]
    return list(dict.fromkeys(names))


def evidence(
    profile: str,
    dataset: str,
    seeds: Sequence[int],
    K: int,
    per_seed: Mapping[str, Sequence[float | None]],
    once: Mapping[str, float] | None = None,
) -> Evidence:
    """Record every measurement and judge the gates and claims.

    Args:
        profile: the profile that produced the numbers.
        dataset: ``digits`` (its own gates and claims) or a 2-D mixture.
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
    for name in needed(dataset, K):
        if name not in per_seed:
            ev.add(
                name,
                [None] * len(seeds),
                missing="not measured in this run (method not run "
                "or the dataset has no such metric)",
            )
    ev.judge(*spec(dataset, K))
    return ev


def _why_missing(values: Sequence[float | None]) -> str | None:
    if all(v is not None and v == v for v in values):
        return None
    return "not finite in some seed (see the run's JSONL log)"
