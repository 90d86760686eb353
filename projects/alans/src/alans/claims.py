"""The gates and claims of the CPU profile, and the evidence one ``reproduce`` run hands them.

Judged by the one rule of ``reprokit.claims`` (paired per-seed differences, 90% Student-t
interval, pre-registered margin δ). Metric names: ``tierA/<split>/<model>/<part>_acc`` with
model ∈ {alans, alans_ind, mlp, alans_untrained} and part ∈ {val, iid, test}; accuracies in
[0, 1]; chance is 0.125.

Margins (pre-registered, from the research note ``papers/alans.md`` §5 "Measurable claims" and
"What a small run should aim for"): systematicity +0.20 (note claim 2), productivity +0.25
against the MLP and against ALANS-Ind (note claim 1), localism +0.15 (the note's "at least
+15–20 points", lower end), generalisation gap 0.15 smaller (the note's "at least 15 points
smaller"), Tier B +0.15 (the note's Tier B claim). Claims without a threshold in the note use 0.

The in-distribution gate (GUIDE §3: every baseline learned the task in distribution): IID
accuracy above 0.90. The generator's answers are unique (``grammar.check_unique``), so an IID
accuracy of 1.0 is attainable; 0.90 leaves room for imperfect learning and was fixed before
this run from that ceiling, not tuned on any result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from reprokit.claims import Claim, Constant, Evidence, Gate

SPLITS = ("systematicity", "productivity", "localism")
SHORT = {"systematicity": "sys", "productivity": "prod", "localism": "loc"}
TIER_B_SPLIT = "systematicity"
IID_LEARNED = Constant(0.90, "learned-the-task IID threshold")
MODELS = ("alans", "alans_ind", "mlp")
# The ALANS README table (I-RAVEN answer sets, 2,000 test problems, single component).
PAPER_IRAVEN = {
    "systematicity": "ALANS 64.80 vs SCL 24.90 (best connectionist); ALANS-V 84.85 (I-RAVEN, %)",
    "productivity": "ALANS 65.55 vs CoPINet 29.10 (best connectionist); ALANS-V 86.55 (I-RAVEN, %)",
    "localism": "ALANS 65.90 vs CoPINet 31.85 (best connectionist); ALANS-V 90.95 (I-RAVEN, %)",
}
MARGIN_VS_MLP = {"systematicity": 0.20, "productivity": 0.25, "localism": 0.15}


def _acc(split: str, model: str, part: str = "test") -> str:
    return f"tierA/{split}/{model}/{part}_acc"


GATES = [
    *(
        Gate(
            f"GB-{SHORT[s]}",
            f"Tier A {s}: the contrastive MLP learned the task in distribution (IID accuracy)",
            _acc(s, "mlp", "iid"),
            IID_LEARNED,
        )
        for s in SPLITS
    ),
    Gate(
        "GI-prod",
        "Tier A productivity: ALANS-Ind learned the task in distribution (IID accuracy)",
        _acc("productivity", "alans_ind", "iid"),
        IID_LEARNED,
    ),
    Gate(
        "GB-tierB",
        f"Tier B {TIER_B_SPLIT}: SCL learned the task in distribution (IID accuracy)",
        f"tierB/{TIER_B_SPLIT}/scl/iid_acc",
        IID_LEARNED,
    ),
]

CLAIMS = [
    *(
        Claim(
            f"C{i}",
            f"Tier A {s}: ALANS beats the contrastive MLP on the held-out split",
            _acc(s, "alans"),
            _acc(s, "mlp"),
            margin=MARGIN_VS_MLP[s],
            central=s == "systematicity",
            gates=(f"GB-{SHORT[s]}",),
            paper=PAPER_IRAVEN[s],
        )
        for i, s in enumerate(SPLITS, 1)
    ),
    Claim(
        "C4",
        "Tier A: ALANS's generalisation gap (IID − test, mean over the splits) is smaller "
        "than the MLP's",
        "tierA/mean/alans/gap",
        "tierA/mean/mlp/gap",
        direction="lower",
        margin=0.15,
        gates=tuple(f"GB-{SHORT[s]}" for s in SPLITS),
        paper="not reported (no IID numbers in the paper)",
    ),
    Claim(
        "C5",
        "Tier A productivity: ALANS beats ALANS-Ind (independent per-value matrices)",
        _acc("productivity", "alans"),
        _acc("productivity", "alans_ind"),
        margin=0.25,
        gates=("GI-prod",),
        paper="ALANS 65.55 vs ALANS-Ind 32.10 (I-RAVEN, %)",
    ),
    *(
        Claim(
            f"C{i}",
            f"Tier A {s}: training matters: trained ALANS beats its untrained backend "
            "(random Z, M)",
            _acc(s, "alans"),
            _acc(s, "alans_untrained"),
            paper="not reported",
        )
        for i, s in enumerate(SPLITS, 6)
    ),
    Claim(
        "C9",
        f"Tier B {TIER_B_SPLIT} (pixels, supervised-perception warm-up): ALANS beats SCL",
        f"tierB/{TIER_B_SPLIT}/alans/test_acc",
        f"tierB/{TIER_B_SPLIT}/scl/test_acc",
        margin=0.15,
        gates=("GB-tierB",),
        paper="ALANS 64.80 vs SCL 24.90 (I-RAVEN systematicity, %)",
    ),
    Claim(
        "C10",
        "Answer generation: the decoded 9th panel gets more attributes right than copying "
        "the 8th panel (mean over the splits)",
        "answer_generation/alans/attr_acc",
        "answer_generation/copy_panel8/attr_acc",
        paper="no number in the note",
    ),
]


def _add_tier_a(ev: Evidence, split: str, runs: Sequence[Mapping]) -> None:
    """Per-seed accuracies of one split (``runs``: ``experiments.tier_a`` results, seed order)."""
    for model in MODELS:
        for part in ("val", "iid", "test"):
            ev.add(_acc(split, model, part), [r[f"{model}_{part}_acc"] for r in runs])
    ev.add(_acc(split, "alans_untrained"), [r["alans_init_acc"] for r in runs])
    for other in ("mlp", "alans_ind"):
        key = f"mcnemar_p_alans_vs_{other}"
        ev.add(f"tierA/{split}/mcnemar_p/alans_vs_{other}", [r[key] for r in runs])


def _add_tier_a_means(ev: Evidence, tier_a: Mapping[str, Sequence[Mapping]]) -> None:
    """Per-seed means over the splits: generalisation gaps and answer generation."""
    runs = list(tier_a.values())
    for model in ("alans", "mlp"):
        gaps = [[r[f"{model}_iid_acc"] - r[f"{model}_test_acc"] for r in rs] for rs in runs]
        ev.add(f"tierA/mean/{model}/gap", np.mean(gaps, axis=0))
    for name, key in (("alans/attr_acc", "attr_acc"), ("alans/all_acc", "all_acc")):
        ev.add(f"answer_generation/{name}", _mean_ag(runs, key))
    ev.add("answer_generation/copy_panel8/attr_acc", _mean_ag(runs, "copy8_attr_acc"))


def _mean_ag(runs: Sequence[Sequence[Mapping]], key: str) -> np.ndarray:
    return np.mean([[r["answer_generation"][key] for r in rs] for rs in runs], axis=0)


def _add_tier_b(ev: Evidence, split: str, runs: Sequence[Mapping], seeds: Sequence[int]) -> None:
    """Tier B accuracies and perception accuracies (``runs``: ``experiments.tier_b`` results)."""
    keys = [("alans", "alans_{}_acc"), ("cnn", "cnn_{}_acc"), ("scl", "scl_{}_acc")]
    for model, key in keys:
        for part in ("iid", "test"):
            ev.add(
                f"tierB/{split}/{model}/{part}_acc",
                [r[key.format(part)] for r in runs],
                seeds=seeds,
            )
    ev.add(
        f"tierB/{split}/alans_warmup_only/test_acc",
        [r["alans_warmup_only_acc"] for r in runs],
        seeds=seeds,
    )
    if "alans_nowarmup_acc" in runs[0]:
        ev.add(
            f"tierB/{split}/alans_nowarmup/test_acc",
            [r["alans_nowarmup_acc"] for r in runs],
            seeds=seeds,
        )
    for stage, tag in (("perception_acc_warmup", "after_warmup"), ("perception_acc", "final")):
        for a in runs[0][stage]:
            vals = [r[stage][a] for r in runs]
            ev.add(f"tierB/{split}/perception_{tag}/{a}_acc", vals, seeds=seeds)


def _fill_missing(ev: Evidence, specs: Sequence[Gate | Claim]) -> None:
    """Metrics a gate or claim needs that this run did not measure: null, with the reason."""
    for spec in specs:
        for name in (spec.metric, spec.versus):
            if isinstance(name, str) and name not in ev.metrics:
                ev.add(name, [None] * len(ev.seeds), missing="not run in this configuration")


def evidence(
    profile: str,
    seeds: Sequence[int],
    tier_a: Mapping[str, Sequence[Mapping]],
    tier_b: Sequence[Mapping] = (),
    tier_b_seeds: Sequence[int] = (),
    tier_b_split: str | None = None,
) -> Evidence:
    """The judged evidence of one run.

    Args:
        profile: the profile name.
        seeds: the Tier A seeds (the order of every per-seed list).
        tier_a: split -> the ``experiments.tier_a`` results of each seed, in seed order.
        tier_b: the ``experiments.tier_b`` results, one per seed of ``tier_b_seeds``.
        tier_b_seeds: the Tier B seeds.
        tier_b_split: the Tier B split (``None`` when Tier B did not run).
    """
    ev = Evidence("alans", profile, seeds)
    for split, runs in tier_a.items():
        _add_tier_a(ev, split, runs)
    if tier_a:
        _add_tier_a_means(ev, tier_a)
    if tier_b:
        _add_tier_b(ev, tier_b_split, tier_b, tier_b_seeds)
    _fill_missing(ev, [*GATES, *CLAIMS])
    ev.judge(GATES, CLAIMS)
    return ev
