"""The gates and claims one ``reproduce`` run judges, per environment (``reprokit.claims``).

Every metric is one value per training seed, paired by seed (the same seeds, data and evaluation
episodes for every method). Margins are δ = 0: neither the paper nor the research note gives a
threshold for any of these comparisons.

Gates (preconditions), judged by the same rule; a claim behind a failed gate is *untestable*:
- ``G_oracle``: the data-generating policy (waypoint controller, best CEM gait, strong alpha-beta
  data policy) scores above a random policy on our evaluation episodes, so the benchmark can show
  success at all.
- ``G_fit_<method>``: the method learned the data in distribution: its teacher-forced action loss
  on training trajectories is below that of predicting the data's mean action (marginal action
  frequencies for Connect Four).
- ``G_reach`` (Maze2D): some method reaches the goal at all (the best method's share of
  evaluation episodes with a non-zero return is above 0).
- ``G_bc_goal`` (Maze2D-UMaze): BC trained only on the segments that end at the evaluation goal
  scores above a random policy, so the data can teach the evaluated behaviour.
- ``G_chain`` (Maze2D-UMaze, Connect Four): the posterior chains left the prior: on training
  trajectories the policy under a trajectory's own z is farther from the policy under another
  trajectory's z than two prior draws are from each other (``lpt.diagnostics.chain_movement``).
  Gates every LPT claim: without it z carries no trajectory information (posterior collapse).

Claims (paper Tables 1, 2, 4 and 9; the Spearman check is the research note's):
- ``C1`` (central): LPT's score beats DT-final-return (same data, same backbone).
- ``C2``: LPT beats BC. ``C3``: LPT-EI (ω > 1) beats LPT (ω = 1).
- ``C4``: LPT beats its no-UNet ablation (z = z0), where the ablation was trained.
- ``C5``: the achieved return rises with the requested y* (Spearman ρ > 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reprokit.claims import Claim, Constant, Evidence, Gate

MAZES = ("maze2d_umaze", "maze2d_medium")
DIAGNOSED = ("maze2d_umaze",)  # where G_bc_goal is measured
CHAINED = ("maze2d_umaze", "connect4")  # where G_chain (posterior movement) is measured
NOT_IN_PAPER = "no number in the paper"
# The paper's numbers in its own setting (D4RL / ESPER data, 5 seeds): Tables 1, 2, 4 and 9.
PAPER = {
    "maze2d_umaze": {
        "dt": "LPT 65.43 ± 2.91 vs DT 31.0 ± 21.3 (final-return DT; maze2d-umaze, Table 2)",
        "ei": "LPT-EI 70.57 ± 1.39 vs LPT 65.43 ± 2.91 (maze2d-umaze, Table 2)",
        "no_unet": "not reported for maze2d (Table 9: hc-m-r, hop-m-r, walker-m-r, Connect-4)",
    },
    "maze2d_medium": {
        "dt": "LPT 20.62 ± 1.81 vs DT 8.2 ± 4.4 (final-return DT; maze2d-medium, Table 2)",
        "ei": "LPT-EI 26.66 ± 0.74 vs LPT 20.62 ± 1.81 (maze2d-medium, Table 2)",
        "no_unet": "not reported for maze2d (Table 9: hc-m-r, hop-m-r, walker-m-r, Connect-4)",
    },
    "halfcheetah": {
        "dt": "LPT 39.64 ± 0.83 vs DT 33.0 (final-return DT; halfcheetah-medium-replay, Table 1)",
        "ei": "LPT-EI 40.66 ± 0.12 vs LPT 39.64 ± 0.83 (halfcheetah-medium-replay, Table 1)",
        "no_unet": "LPT 39.64 vs w/o UNet 34.70 (hc-m-r, Table 9)",
    },
    "connect4": {
        "dt": "LPT 0.99 ± 0.01 vs DT 0.8 ± 0.07 (win-rate score, Table 4; DT from Paster et al.)",
        "ei": "LPT-EI not reported for Connect Four",
        "no_unet": "LPT 0.99 vs w/o UNet 0.90 (Connect-4, Table 9)",
    },
}
ORACLE = {
    "halfcheetah": "the best CEM generator gait",
    "connect4": "the strong (ε-greedy depth-6 alpha-beta) data policy",
}
NAMES = {"lpt": "LPT", "lpt_no_unet": "LPT without UNet", "dt": "DT", "bc": "BC"}


def gates(tag: str, methods: Sequence[str]) -> list[Gate]:
    """G_oracle, G_fit_<method> for every trained method, G_reach on Maze2D, G_bc_goal and
    G_chain where they are measured."""
    oracle = ORACLE.get(tag, "the waypoint controller")
    out = [
        Gate(
            "G_oracle",
            f"{oracle} scores above a random policy on our evaluation episodes",
            "score/oracle",
            "score/random",
        )
    ]
    out += [
        Gate(
            f"G_fit_{m}",
            f"{NAMES[m]} fits the data's actions better than the mean action "
            "(teacher-forced on training trajectories)",
            f"action_fit/{m}",
            "action_fit/mean_action",
            direction="lower",
        )
        for m in methods
    ]
    if tag in MAZES:
        out.append(
            Gate(
                "G_reach",
                "some method reaches the goal (best share of episodes with a non-zero return)",
                "reach/best",
                Constant(0.0, "never reaches the goal"),
            )
        )
    if tag in DIAGNOSED:
        out += [
            Gate(
                "G_bc_goal",
                "BC trained on the segments that end at the evaluation goal scores above a "
                "random policy",
                "score/bc_goal",
                "score/random",
            )
        ]
    if tag in CHAINED:
        out += [
            Gate(
                "G_chain",
                "the posterior chains left the prior: own-vs-other-trajectory z moves the "
                "policy more than two prior draws",
                "chain/own_vs_other",
                "chain/prior_pair",
            ),
        ]
    return out


def claims(tag: str, methods: Sequence[str]) -> list[Claim]:
    """C1 (central) to C5 of the module docstring; C4 only when the no-UNet ablation ran."""
    paper = PAPER.get(tag, PAPER["maze2d_umaze"])
    reach = ("G_reach",) if tag in MAZES else ()
    reach += ("G_bc_goal",) if tag in DIAGNOSED else ()
    chain = ("G_chain",) if tag in CHAINED else ()
    lpt = ("G_oracle", "G_fit_lpt", *reach, *chain)
    out = [
        Claim(
            "C1",
            "LPT's score beats DT-final-return (same data, same backbone)",
            "score/lpt",
            "score/dt",
            central=True,
            gates=(*lpt, "G_fit_dt"),
            paper=paper["dt"],
        )
    ]
    if "bc" in methods:
        out.append(
            Claim(
                "C2",
                "LPT's score beats BC",
                "score/lpt",
                "score/bc",
                gates=(*lpt, "G_fit_bc"),
                paper=f"{NOT_IN_PAPER} (BC is not among the paper's baselines)",
            )
        )
    out.append(
        Claim(
            "C3",
            "LPT-EI (ω > 1) scores above LPT (ω = 1)",
            "score/lpt_ei",
            "score/lpt",
            gates=lpt,
            paper=paper["ei"],
        )
    )
    if "lpt_no_unet" in methods:
        out.append(
            Claim(
                "C4",
                "LPT scores above its no-UNet ablation (z = z0)",
                "score/lpt",
                "score/lpt_no_unet",
                gates=(*lpt, "G_fit_lpt_no_unet"),
                paper=paper["no_unet"],
            )
        )
    out.append(
        Claim(
            "C5",
            "the achieved return rises with the requested y* (Spearman ρ over the y* sweep)",
            "spearman/lpt",
            Constant(0.0, "no association"),
            gates=lpt,
            paper=f"{NOT_IN_PAPER} (the research note's sanity check)",
        )
    )
    return out


def judge(
    tag: str,
    profile: str,
    seeds: Sequence[int],
    methods: Sequence[str],
    per_seed: Mapping[str, Sequence[float]],
    once: Mapping[str, float] | None = None,
    missing: Mapping[str, str] | None = None,
) -> Evidence:
    """Record every metric (``per_seed``: one value per seed, in seed order; ``once``: numbers
    measured once; ``missing``: why a metric has non-finite values) and judge this
    environment's gates and claims."""
    ev = Evidence("lpt", profile, seeds)
    for name in sorted(per_seed):
        ev.add(name, list(per_seed[name]), missing=(missing or {}).get(name))
    for name, value in sorted((once or {}).items()):
        ev.add(name, value)
    ev.judge(gates(tag, methods), claims(tag, methods))
    return ev
