"""Figures, notes and RESULTS.md sections of one ``reproduce`` run.

The gates and claims tables come from ``reprokit.report`` (generated from the metrics document);
the cpu-full suite's environments become marked sections of the same RESULTS.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lpt.configs import Config
from reprokit import plots
from reprokit.report import format_mean_std, write_results

SECTIONS = {  # RESULTS.md section headings of cpu-long and the cpu-full suite's environments
    "long": "Maze2D-UMaze, the central claim's budget ({profile} profile)",
    "halfcheetah": "HalfCheetah-v5 ({profile} profile)",
    "connect4": "Connect Four ({profile} profile)",
    "maze2d_medium": "Maze2D-Medium ({profile} profile)",
}


def figures(
    doc: dict,
    curves: dict[str, list[list[float]]],
    steps: list[int],
    tag: str,
    out: Path,
    prefix: str,
) -> dict[str, Path]:
    """Training curves (mean ± std over seeds) and the y* sweep, as ``out/<prefix>*.png``."""
    figs = {}
    if steps:
        loss = "action cross-entropy" if tag == "connect4" else "action MSE"
        name = "action_ce" if tag == "connect4" else "action_mse"
        figs[f"Training {loss} (mean ± std over seeds)"] = plots.learning_curves(
            {k: (steps, np.array(v)) for k, v in curves.items()},
            out / f"{prefix}{name}.png",
            xlabel="iteration",
            ylabel=loss,
            logy=True,
        )
    sweep = doc["info"]["target_sweep"]
    if sweep["mean_returns"]:
        figs["Achieved return vs requested return y* (LPT, ω = 1)"] = plots.learning_curves(
            {"LPT": (sweep["targets"], np.array(sweep["mean_returns"]))},
            out / f"{prefix}target_sweep.png",
            xlabel="requested return y*",
            ylabel="achieved return",
        )
    return figs


def _fmt(metrics: dict, name: str) -> str:
    return format_mean_std(metrics[name]) if name in metrics else "not measured"


def notes(doc: dict, tag: str, cfg: Config) -> str:
    """The report's notes: data, references, gate measurements, diagnostics, speed."""
    m, info = doc["metrics"], doc["info"]
    text = _data_notes(info, tag, cfg)
    text += (
        "- Gates: G_oracle compares the data-generating policy with a random policy on "
        f"{cfg.eval.n_episodes} fresh evaluation episodes per seed (score units); G_fit_* "
        "compare each method's teacher-forced action loss on "
        f"{info['fit_trajectories']} training trajectories per seed with the data's mean action"
        + (" (marginal action frequencies)" if tag == "connect4" else "")
        + "; they test that the method fit its data, not that it generalises.\n"
    )
    greedy = [k.split("/", 1)[1] for k in m if k.startswith("score_greedy/")]
    if greedy:
        text += (
            "- Actions are sampled from π in the claims above (DT's Atari evaluation); playing the "
            "most likely legal move instead (greedy) scores: "
            + ", ".join(f"{g} {_fmt(m, f'score_greedy/{g}')}" for g in greedy)
            + " (not judged).\n"
        )
    dist = "total variation of π" if tag == "connect4" else "L2 distance of the mean actions"
    if "policy_shift/lpt" in m and "policy_shift/dt" in m:
        text += (
            f"- Does the conditioning move the policy? {dist} between the ends of the y* sweep "
            "(LPT: the plans z for the lowest and highest y*; DT: R ≡ lowest vs highest y*), "
            f"teacher-forced on {cfg.eval.n_episodes} data trajectories per seed: LPT "
            f"{_fmt(m, 'policy_shift/lpt')}, DT {_fmt(m, 'policy_shift/dt')}.\n"
        )
    if "chain/own_vs_other" in m:
        beta = f" (β = {cfg.langevin.ce_weight:g})" if tag == "connect4" else ""
        text += (
            f"- G_chain (did the posterior chains leave the prior?): {dist} of LPT "
            f"on {info['fit_trajectories']} training trajectories per seed between the "
            f"trajectory's own chain and another's: {_fmt(m, 'chain/own_vs_other')}; between "
            f"two prior draws: {_fmt(m, 'chain/prior_pair')}. Gradient balance of Eq. 5 at the "
            "chains (mean per-trajectory ‖∇_z0‖): prior "
            f"{_fmt(m, 'balance/prior')}, action likelihood{beta} {_fmt(m, 'balance/action')}, "
            f"return likelihood {_fmt(m, 'balance/return')}; injected noise s·‖ε‖ = "
            f"{_fmt(m, 'balance/noise')} per step (the gradients act with ½s² = "
            f"{0.5 * cfg.langevin.step_size**2:g}).\n"
        )
    if "score/bc_goal" in m:
        text += (
            "- G_bc_goal: BC trained for "
            f"{cfg.eval.bc_goal_steps} steps only on the segments that end at the evaluation "
            f"goal scores {_fmt(m, 'score/bc_goal')} (share of episodes reaching the goal "
            f"{_fmt(m, 'reach/bc_goal')}) on the same evaluation episodes.\n"
        )
    ref = info.get("planning_reference")
    if ref is not None:
        where = (
            f", starting {ref['start_distance_to_goal']:.2f} from the goal"
            if "start_distance_to_goal" in ref
            else ""
        )
        rule = {
            "best": "the data's best trajectory",
            "matched": "the best trajectory that starts outside the goal radius, as every "
            "evaluation episode does",
        }[ref["rule"]]
        text += (
            f"- Planning reference (rule `{ref['rule']}`: {rule}): trajectory {ref['trajectory']}"
            f" (return {ref['return']:g}{where}); y* and the sweep are fractions of its return, "
            "and the planning chains start at its posterior.\n"
        )
    text += (
        f"- y* = {info['y_star']:.1f}; LPT-EI uses ω = {cfg.langevin.omega_ei}; mean "
        f"|ŷ(z*) − y*| after planning: {_fmt(m, 'plan_abs_error/lpt')}.\n"
        f"- Speed: training it/s LPT {_fmt(m, 'speed/train_iters_per_s/lpt')}, DT "
        f"{_fmt(m, 'speed/train_iters_per_s/dt')}; evaluation "
        f"{_fmt(m, 'speed/eval_env_steps_per_s/lpt')} env-steps/s (LPT; batched episodes, cached "
        f"rollout); cached vs naive rollout speed-up {_fmt(m, 'speed/rollout_speedup')} over "
        f"{cfg.eval.speed_steps} steps.\n"
    )
    return text


def write_report(
    doc: dict,
    curves: dict[str, list[list[float]]],
    steps: list[int],
    tag: str,
    out: Path,
    cfg: Config,
    results_md: Path,
    prefix: str = "",
) -> Path:
    """Figures (``out/<prefix>*.png``) and the markdown report ``results_md`` of one document."""
    profile = doc["profile"]
    return write_results(
        results_md,
        doc,
        title=f"LPT: {profile} profile on {cfg.data.env}",
        figures=figures(doc, curves, steps, tag, out, prefix),
        command=f"python -m lpt.reproduce --profile {profile}",
        notes=notes(doc, tag, cfg),
        metrics_path=out / f"{prefix}metrics.json",
    )


def _data_notes(info: dict, tag: str, cfg: Config) -> str:
    """Where the data came from and how the score is normalised, for the report."""
    d, refs = info["data"], info["refs"]
    head = f"- Data: {d['n_trajectories']} trajectories / {d['n_transitions']} transitions"
    if cfg.data.path is not None:
        return f"{head} read from `{d['file']}`.\n" + (
            f"- Normalized score with references {refs['random']:.2f} / {refs['oracle']:.2f}.\n"
            if refs
            else ""
        )
    if tag == "connect4":
        pol = d.get("policy_mean_return", {})
        return (
            f"{head} generated locally (ESPER recipe: 50/50 specialised / ε-greedy strong policy, "
            f"ε = {cfg.data.eps}, strong = depth-{cfg.data.strong_depth} alpha-beta; opponent "
            f"depth-{cfg.data.opp_depth} alpha-beta that plays a random column 0-5 instead of "
            f"column 6 with probability 0.2); mean game result per data policy: "
            + ", ".join(f"{k} {v:.2f}" for k, v in pol.items())
            + ". Scores are **not comparable** with the paper's Table 4 (perfect-solver "
            "opponent).\n- Score = mean game result against the opponent over "
            f"{cfg.eval.n_episodes} games per method and seed (win +1, draw 0, loss −1).\n"
        )
    if tag == "halfcheetah":
        source = (
            "HalfCheetah-v5, open-loop CPG gaits from every CEM round plus action noise "
            f"{list(cfg.data.noise_levels)}"
        )
        expert = "best generator gait"
    elif cfg.data.style == "park":
        source = (
            "gymnasium-robotics PointMaze, D4RL waypoint-controller recipe with park-style "
            f"segments: aimed at the evaluation goal, they park there until H = "
            f"{cfg.data.max_segment} steps, so a return counts the steps at the goal over the "
            f"{cfg.data.max_segment}-step window an evaluation episode scores"
        )
        expert = "controller"
    else:
        source = "gymnasium-robotics PointMaze, D4RL waypoint-controller recipe"
        expert = "controller"
    return (
        f"{head} generated locally ({source}); final returns "
        f"mean {d['return_mean']:.2f}, max {d['return_max']:.0f}"
        + ("" if tag == "halfcheetah" else f", {100 * d['frac_nonzero_return']:.0f}% non-zero")
        + ". Scores are **not comparable** with the paper's D4RL tables.\n"
        f"- Normalized score = 100·(R − R_random)/(R_{expert.split()[-1]} − R_random) over "
        f"{cfg.eval.horizon}-step episodes, references measured on our environment: random "
        f"{refs['random']:.1f}, {expert} {refs['oracle']:.1f}.\n"
    )
