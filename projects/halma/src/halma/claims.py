"""Gates and claims of the benchmark, judged by ``reprokit.claims`` (one verdict rule).

The central claim mirrors the paper's message ("proficiency and weakness" per level): an agent
that learned the task keeps its success on unseen renderings (perceptual) better than on unseen
combinations of concepts (conceptual). It is a paired per-seed difference, so it can fail both
ways. An agent left out of a run is recorded as missing, so its claims are *untestable*.
"""

from __future__ import annotations

from reprokit.claims import Claim, Constant, Evidence, Gate

from .agents import AGENT_NAMES
from .splits import SPLITS

PLANNERS = ("oracle", "unit_only", "random")
MEASURES = ("success", "steps", "invalid", "speedup")

GATES = [
    Gate(
        "G_oracle",
        "the oracle solves every trial of every split (the rules are consistent)",
        metric="oracle_min_success",
        versus=Constant(0.99, "99% of trials"),
    ),
    Gate(
        "G_numbers",
        "unit steps alone solve < 10% of iid trials (success can see numbers)",
        metric="unit_only_iid_success",
        versus=Constant(0.10, "10% of trials"),
        direction="lower",
    ),
    *[
        Gate(
            f"G_iid_{a}",
            f"{a} solves >= 80% of iid trials (it learned the task)",
            metric=f"{a}_iid_success",
            versus=Constant(0.80, "80% of trials"),
        )
        for a in AGENT_NAMES
    ],
]
BASE = ("G_oracle", "G_numbers")
CLAIMS = [
    Claim(
        "C1",
        "factored agent: success on the perceptual split exceeds success on the conceptual split",
        metric="factored_perceptual_success",
        versus="factored_conceptual_success",
        central=True,
        gates=(*BASE, "G_iid_factored"),
        paper="qualitative ('proficiency and weakness' per level), no number",
    ),
    *[
        Claim(
            f"C1_{a}",
            f"{a}: perceptual success exceeds conceptual success",
            metric=f"{a}_perceptual_success",
            versus=f"{a}_conceptual_success",
            gates=(*BASE, f"G_iid_{a}"),
        )
        for a in ("cnn_gru", "relational")
    ],
    Claim(
        "C2",
        "factored agent: algorithmic success is below iid success (longer "
        "compositions are a weakness)",
        metric="factored_algorithmic_success",
        versus="factored_iid_success",
        direction="lower",
        gates=(*BASE, "G_iid_factored"),
    ),
    Claim(
        "C3",
        "the factored agent beats the CNN/GRU baseline on the perceptual split",
        metric="factored_perceptual_success",
        versus="cnn_gru_perceptual_success",
        gates=(*BASE, "G_iid_factored", "G_iid_cnn_gru"),
    ),
    Claim(
        "C4",
        "the batched env steps faster than the plain gymnasium loop",
        metric="env_steps_per_s_vectorised",
        versus="env_steps_per_s_loop",
        gates=("G_oracle",),
        paper="not in the paper (issue 23)",
    ),
]


def _add(ev: Evidence, name: str, values: list[float | None], why: str) -> None:
    has_nan = any(v is None or v != v for v in values)
    ev.add(
        name, [None if v is None or v != v else v for v in values], missing=why if has_nan else None
    )


def evidence(
    profile: str, seeds: list[int], planners: list[dict], agents: dict[str, list[dict]]
) -> Evidence:
    """Evidence from the per-seed results: ``planners[i]`` and ``agents[name][i]`` map
    ``<split>_<measure>`` (planners: ``<planner>_<split>_<measure>``) to a number."""
    ev = Evidence("halma", profile, seeds=seeds)
    for p in PLANNERS:
        for split in SPLITS:
            for m in MEASURES:
                _add(
                    ev,
                    f"{p}_{split}_{m}",
                    [r[f"{p}_{split}_{m}"] for r in planners],
                    "no trial solved (or none solved trial 1 and 3)",
                )
    ev.add("oracle_min_success", [min(r[f"oracle_{s}_success"] for s in SPLITS) for r in planners])
    for a in AGENT_NAMES:
        runs = agents.get(a)
        for split in SPLITS:
            for m in MEASURES:
                vals = [r[f"{split}_{m}"] for r in runs] if runs else [None] * len(seeds)
                why = "no trial solved" if runs else "agent not run in this profile"
                _add(ev, f"{a}_{split}_{m}", vals, why)
    for m in ("vectorised", "loop"):
        ev.add(f"env_steps_per_s_{m}", [r[f"env_steps_per_s_{m}"] for r in planners])
    ev.judge(GATES, CLAIMS)
    return ev
