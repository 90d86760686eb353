"""Gates and claims of the benchmark, judged by ``reprokit.claims`` (one verdict rule).

Gates first make sure the experiment can see what it claims to measure: the oracle solves every
board (the reconstructed rules are consistent), unit steps alone fail (success needs numbers),
each agent learned the task in distribution (success >= 80 %, steps <= 1.5 x oracle), and the
agents read the digits (relabelled digits at test time, and a digit-blind agent, score clearly
worse), and the memory oracle (explores in trial 1, then plans on what it saw) gets faster from
trial 1 to trial 3 (the speed-up metric can show rapid problem solving). The central claim is a
paired per-seed difference between two agents with different inductive biases, on held-out
combinations of trained parts (the conceptual split), so it can fail either way. An agent left
out of a run is recorded as missing, so its claims are *untestable*.
"""

from __future__ import annotations

from dataclasses import replace

from reprokit.claims import Claim, Constant, Evidence, Gate

from .agents import AGENT_NAMES, IMAGE_AGENTS
from .splits import SPLITS

PLANNERS = ("oracle", "greedy", "unit_only", "random")
MEMORY = "memory_oracle"  # the speed-up reference (memory.py), a unit of its own per seed
MEASURES = ("success", "steps", "ratio", "invalid", "speedup")
SHIFTS = ("perceptual", "conceptual", "algorithmic")  # each agent's drop = iid - shift success
FACTORED, RELATIONAL = "symbolic_factored", "symbolic_relational"
READERS = (FACTORED, RELATIONAL)  # agents whose number reading is gated
IMAGE_READERS = ("factored", "relational", "slot_gru")  # image agents: a pretrained digit reader
DIGIT_SOURCES = ("train", "test", "font")  # the reader's accuracy on fresh renderings of each
LONG_CENTRAL = "C6"  # the central claim of the cpu-long profile (C1 is the cpu profile's)
WRONG_MARGIN = 0.2  # "clearly worse": 20 points of success (design-risk note, item 5)

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
        versus=Constant(0.10, "10% of trials (design-risk note, item 5)"),
        direction="lower",
    ),
    *[
        gate
        for a in AGENT_NAMES
        for gate in (
            Gate(
                f"G_iid_{a}",
                f"{a} solves >= 80% of iid trials (it learned the task)",
                metric=f"{a}_iid_success",
                versus=Constant(0.80, "80% of trials (design-risk note, item 1)"),
            ),
            Gate(
                f"G_ratio_{a}",
                f"{a} needs <= 1.5 x the oracle's steps on solved iid trials",
                metric=f"{a}_iid_ratio",
                versus=Constant(1.5, "1.5 x oracle steps (design-risk note, item 1)"),
                direction="lower",
            ),
        )
    ],
    *[
        Gate(
            f"G_permuted_{a}",
            f"{a} reads the digits: relabelled digits at test time cost > 20 points of success",
            metric=f"{a}_iid_success",
            versus=f"{a}_permuted_success",
            margin=WRONG_MARGIN,
        )
        for a in (*READERS, *IMAGE_READERS)
    ],
    Gate(
        "G_blind",
        "the factored agent made digit-blind (numbers replaced by their signs) solves > 20 "
        "points fewer iid trials",
        metric=f"{FACTORED}_iid_success",
        versus="symbolic_blind_iid_success",
        margin=WRONG_MARGIN,
    ),
    Gate(
        "G_memory",
        "the memory oracle needs fewer steps in trial 3 than in trial 1 on iid boards (the "
        "speed-up metric can show rapid problem solving)",
        metric=f"{MEMORY}_iid_speedup",
        versus=Constant(0.0, "no speed-up (design-risk note, item 6)"),
    ),
]


def learned(a: str) -> tuple[str, ...]:
    return (f"G_iid_{a}", f"G_ratio_{a}")


BASE = ("G_oracle", "G_numbers")
CENTRAL_GATES = (
    *BASE,
    *learned(FACTORED),
    *learned(RELATIONAL),
    *(f"G_permuted_{a}" for a in READERS),
    "G_blind",
)
CLAIMS = [
    Claim(
        "C1",
        "held-out (distance, direction) combinations cost the direction-factored agent less "
        "success (iid - conceptual) than the relational agent with direction embeddings",
        metric=f"{FACTORED}_conceptual_drop",
        versus=f"{RELATIONAL}_conceptual_drop",
        direction="lower",
        central=True,
        gates=CENTRAL_GATES,
        paper="qualitative (agents with different inductive biases differ per level), no number",
    ),
    Claim(
        "C2",
        "the direction-factored agent solves more conceptual trials than the relational agent",
        metric=f"{FACTORED}_conceptual_success",
        versus=f"{RELATIONAL}_conceptual_success",
        gates=CENTRAL_GATES,
    ),
    *[
        Claim(
            f"C3_{a}",
            f"{a}: conceptual success is below iid success (held-out combinations are a weakness)",
            metric=f"{a}_conceptual_success",
            versus=f"{a}_iid_success",
            direction="lower",
            gates=(*BASE, *learned(a)),
        )
        for a in READERS
    ],
    *[
        Claim(
            f"C4_{a}",
            f"{a}: algorithmic success (>= 2 chained jumps) is below iid success",
            metric=f"{a}_algorithmic_success",
            versus=f"{a}_iid_success",
            direction="lower",
            gates=(*BASE, *learned(a)),
        )
        for a in READERS
    ],
    Claim(
        "C5",
        "the direction-factored agent solves more conceptual trials than the unfactored "
        "symbolic MLP",
        metric=f"{FACTORED}_conceptual_success",
        versus="symbolic_conceptual_success",
        gates=(*BASE, *learned(FACTORED), *learned("symbolic")),
    ),
    Claim(
        "C6",
        "image agent with a shared digit encoder: perceptual success exceeds conceptual success",
        metric="factored_perceptual_success",
        versus="factored_conceptual_success",
        gates=(*BASE, *learned("factored"), "G_permuted_factored"),
        paper="qualitative ('proficiency and weakness' per level), no number",
    ),
    *[
        Claim(
            f"C10_{a}",
            f"{a}: digits drawn in the DejaVu font (a rendering never seen) cost success on iid "
            "boards (a perceptual weakness)",
            metric=f"{a}_font_success",
            versus=f"{a}_iid_success",
            direction="lower",
            gates=(*BASE, *learned(a), f"G_permuted_{a}"),
            paper="qualitative ('proficiency and weakness' per level), no number",
        )
        for a in IMAGE_READERS
    ],
    Claim(
        "C7",
        "the batched env steps faster than the plain gymnasium loop",
        metric="env_steps_per_s_vectorised",
        versus="env_steps_per_s_loop",
        gates=("G_oracle",),
        paper="not in the paper (issue 23)",
    ),
    *[
        Claim(
            f"C8_{a}",
            f"{a} solves rapidly: fewer steps in trial 3 than in trial 1 on iid boards",
            metric=f"{a}_iid_speedup",
            versus=Constant(0.0, "no speed-up"),
            gates=(*BASE, *learned(a), "G_memory"),
            paper="qualitative (rapid problem solving across the 3 trials), no number",
        )
        for a in READERS
    ],
    *[
        Claim(
            f"C9_{a}",
            f"{a}'s trial-1 -> trial-3 speed-up on iid boards is below the memory oracle's",
            metric=f"{a}_iid_speedup",
            versus=f"{MEMORY}_iid_speedup",
            direction="lower",
            gates=(*BASE, *learned(a), "G_memory"),
        )
        for a in READERS
    ],
]


def _add(ev: Evidence, name: str, values: list[float | None], why: str) -> None:
    has_nan = any(v is None or v != v for v in values)
    ev.add(
        name, [None if v is None or v != v else v for v in values], missing=why if has_nan else None
    )


def evidence(
    profile: str,
    seeds: list[int],
    planners: list[dict],
    agents: dict[str, list[dict]],
    memory: list[dict],
) -> Evidence:
    """Evidence from the per-seed results: ``planners[i]``, ``memory[i]`` and ``agents[name][i]``
    map ``<split>_<measure>`` (planners: ``<planner>_<split>_<measure>``) to a number; agents
    also ``permuted_<measure>`` (iid boards, relabelled digits)."""
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
    for split in SPLITS:
        for m in MEASURES:
            _add(
                ev,
                f"{MEMORY}_{split}_{m}",
                [r[f"{split}_{m}"] for r in memory],
                "no trial solved (or none solved trial 1 and 3)",
            )
    ev.add("oracle_min_success", [min(r[f"oracle_{s}_success"] for s in SPLITS) for r in planners])
    for a in AGENT_NAMES:
        runs = agents.get(a)
        for split in (*SPLITS, "permuted", "font"):
            for m in MEASURES:
                key = f"{split}_{m}"
                vals = [r.get(key) for r in runs] if runs else [None] * len(seeds)
                why = "no trial solved" if runs else "agent not run in this profile"
                if split == "font" and a not in IMAGE_AGENTS:
                    why = "a symbolic agent reads numbers, not digit images"
                _add(ev, f"{a}_{key}", vals, why)
        for shift in SHIFTS:
            drops = [r["iid_success"] - r[f"{shift}_success"] for r in runs] if runs else None
            _add(ev, f"{a}_{shift}_drop", drops or [None] * len(seeds), "agent not run")
    for a in AGENT_NAMES:
        runs = agents.get(a)
        vals = [r.get("train_steps_per_s") for r in runs] if runs else [None] * len(seeds)
        why = "not recorded by this run" if runs else "agent not run in this profile"
        _add(ev, f"{a}_train_steps_per_s", vals, why)
    for a in IMAGE_READERS:
        runs = agents.get(a)
        for source in DIGIT_SOURCES:
            key = f"reader_{source}_accuracy"
            vals = [r[key] for r in runs] if runs else [None] * len(seeds)
            _add(ev, f"{a}_{key}", vals, "agent not run in this profile")
    for m in ("vectorised", "loop"):
        ev.add(f"env_steps_per_s_{m}", [r[f"env_steps_per_s_{m}"] for r in planners])
    ev.judge(GATES, claims_of(profile))
    return ev


def claims_of(profile: str) -> list[Claim]:
    """The claims of a profile: cpu-long, which runs the image agents, has C6 as its central
    claim; every other profile has C1."""
    if profile != "cpu-long":
        return CLAIMS
    return [replace(c, central=c.id == LONG_CENTRAL) for c in CLAIMS]
