"""The experiment behind ``python -m lpt.reproduce``.

Trains LPT, LPT without the UNet prior, DT-final-return and BC on the same Maze2D data and
backbone for every seed, evaluates LPT (ω = 1), LPT-EI (ω > 1), a sweep over requested returns
y*, and writes metrics.json (+ figures, + RESULTS.md for the cpu profile).
"""

from __future__ import annotations

import contextlib
import json
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from lpt import connect4, halfcheetah
from lpt.configs import Config
from lpt.data import GYM_MUJOCO, best_generator_theta, is_connect4, load_trajectories, maze_of
from lpt.evaluate import Spec, plan, policy_shift, return_fit, rollout
from lpt.gym_mujoco import D4RL_REF, MujocoSpec
from lpt.maze2d import eval_spec, reference_returns
from lpt.reporting import (
    MAIN_TAG,
    SECTIONS,
    SIDE_PREFIXES,
    append_section,
    marked_section,
    merge_metrics,
    merge_section,
    write_report,
)
from lpt.train import train
from reprokit.cache import cached_npz
from reprokit.distributed import cleanup, init_distributed
from reprokit.offline_rl import load_d4rl, normalized_score
from reprokit.report import results_dir, summarize, write_metrics
from reprokit.runlog import Run, runs_root
from reprokit.seeding import seed_everything

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def pick_device(name: str, dist_device: torch.device | None = None) -> torch.device:
    if dist_device is not None and dist_device.type == "cuda":
        return dist_device
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("lpt.reproduce: error: --device cuda requested but CUDA is not available")
    return torch.device(name)


def _spec_and_refs(cfg: Config) -> tuple[Spec, tuple[float, float] | None]:
    """Evaluation spec and the (min, max) reference returns of the normalised score.

    Maze2D and locally generated HalfCheetah: measured on our environment (random policy, and the
    controller / best generator gait). Gym-MuJoCo from a D4RL file: D4RL's constants. Connect Four:
    none (the score is the mean game result, win +1, draw 0, loss -1, as in the paper's Table 4).
    """
    env = cfg.data.env
    key = {"env": env, "horizon": cfg.eval.horizon, "episodes": cfg.data.ref_episodes}
    if is_connect4(env):
        return connect4.Connect4Spec(cfg.eval.horizon, cfg.data.opp_depth), None
    if env in GYM_MUJOCO:
        spec = MujocoSpec(env, cfg.eval.horizon)
        if cfg.data.path is not None:
            return spec, D4RL_REF[env]
        theta = best_generator_theta(cfg.data)
        build = lambda: {  # noqa: E731
            "ref": np.array(halfcheetah.reference_returns(spec, theta, cfg.data.ref_episodes, 0))
        }
        key["theta"] = theta.round(6).tolist()
        refs = cached_npz("lpt-halfcheetah-refs", 1, key, build=build)["ref"]
    else:
        spec = eval_spec(maze_of(env), cfg.eval.horizon)
        build = lambda: {"ref": np.array(reference_returns(spec, cfg.data.ref_episodes, 0))}  # noqa: E731
        refs = cached_npz("lpt-maze2d-refs", 1, key, build=build)["ref"]
    return spec, (float(refs[0]), float(refs[1]))


def _plan(
    model, buffer, data, y: float, cfg: Config, seed: int, omega: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``evaluate.plan`` for one plan per evaluation episode with the profile's Langevin."""
    L = cfg.langevin
    B = cfg.eval.n_episodes
    return plan(model, buffer, data, y, B, L.n_test, L.step_size, omega, L.sigma_y2, seed)


def run_experiment(cfg: Config, profile: str) -> dict:
    """Train every method for every seed, evaluate, write metrics (+ report); return metrics."""
    t_start = time.time()
    info = init_distributed(device="cpu" if cfg.device == "cpu" else None)
    device = pick_device(cfg.device, info.device)
    # cpu-<env> profiles write results/cpu/<env>_* beside the Maze2D-UMaze cpu results.
    side_run = profile.startswith("cpu-") and cfg.out is None
    out = results_dir("lpt", "cpu" if side_run else profile, anchor=__file__, out=cfg.out)
    data, data_path = load_trajectories(cfg.data)
    spec, refs = _spec_and_refs(cfg)
    tag = cfg.data.env.replace("-", "_")
    E, L = cfg.eval, cfg.langevin
    y_max = float(data.returns.max())
    y_star = E.target if E.target is not None else E.target_frac * y_max
    scores: dict[str, list[float]] = {}
    curves: dict[str, list[list[float]]] = {}
    speed: dict[str, list[float]] = {}
    sweep: list[list[float]] = []
    spearman, plan_err, fit = [], [], []
    shift: dict[str, list[float]] = {"lpt": [], "dt": []}  # policy_shift, y* sweep ends
    steps: list[int] = []

    def score(R: np.ndarray) -> float:
        return float(np.mean(R if refs is None else normalized_score(refs, R)))

    ckpt_dir = (cfg.out if cfg.out is not None else runs_root() / "lpt" / profile) / "checkpoints"
    for seed in cfg.seeds:
        seed_everything(seed)
        env_seeds = [100_000 * (seed + 1) + i for i in range(E.n_episodes)]
        run_root = cfg.out / "runs" if cfg.out is not None else None
        run_ctx = (
            Run(project="lpt", profile=profile, config=cfg, seed=seed, root=run_root)
            if info.rank == 0
            else contextlib.nullcontext()
        )
        # policy_shift: data trajectories and the two ends of the y* sweep, shared by LPT and DT
        y_ends = (min(E.sweep_fracs) * y_max, max(E.sweep_fracs) * y_max)
        shift_idx = np.random.default_rng(seed).choice(data.n, E.n_episodes)
        with run_ctx as run:
            for method in cfg.methods:
                ckpt = ckpt_dir / f"{method}-seed{seed}.pt"
                res = train(method, cfg, data, seed, device, run, ckpt, info)
                speed.setdefault(f"{method}_train_iters_per_s", []).append(res.iters_per_s)
                curves.setdefault(method, []).append(res.history[res.model.action_loss_name])
                steps = res.history["step"]
                if info.rank != 0:
                    continue
                model = res.model
                sampled = data.discrete and E.decoding == "sample"
                play = partial(rollout, model, spec, data, env_seeds)
                decode = {"decode_seed": seed} if sampled else {}

                plan_for = partial(_plan, model, res.buffer, data, cfg=cfg, seed=seed)
                if method == "dt":
                    cond = {"y_star": y_star}
                elif method == "bc":
                    cond = {}
                else:
                    z, y_hat = plan_for(y_star)
                    cond = {"z": z}
                R, sps = play(**cond, **decode)
                if method == "dt":  # how much the requested return moves DT's policy
                    ends = [
                        {"y": torch.full((E.n_episodes,), y / data.scale, device=device)}
                        for y in y_ends
                    ]
                    shift["dt"].append(policy_shift(model, data, shift_idx, *ends))
                if sampled:  # discrete actions: also the greedy (most likely legal move) policy
                    scores.setdefault(f"{method}_greedy", []).append(score(play(**cond)[0]))
                if method == "lpt":
                    plan_err.append(float((y_hat - y_star).abs().mean()))
                    fit.append(return_fit(model, res.buffer, data))
                    z, _ = plan_for(y_star, omega=L.omega_ei)
                    scores.setdefault("lpt_ei", []).append(score(play(z=z, **decode)[0]))
                    pairs, means = [], []
                    for frac in E.sweep_fracs:
                        z, _ = plan_for(frac * y_max)
                        Rf = play(z=z, **decode)[0]
                        pairs += [(frac * y_max, r) for r in Rf]
                        means.append(float(Rf.mean()))
                    sweep.append(means)
                    ends = [{"z": plan_for(y)[0]} for y in y_ends]
                    shift["lpt"].append(policy_shift(model, data, shift_idx, *ends))
                    targets, achieved = np.array(pairs).T
                    constant = np.ptp(achieved) == 0  # ρ undefined: report no association
                    spearman.append(0.0 if constant else float(spearmanr(targets, achieved)[0]))
                    if E.speed_steps and seed == cfg.seeds[0]:
                        play(z=z, horizon=5)  # warm-up
                        sps_naive = play(z=z, cached=False, horizon=E.speed_steps)[1]
                        sps_cached = play(z=z, horizon=E.speed_steps)[1]
                        speed["rollout_naive_env_steps_per_s"] = [sps_naive]
                        speed["rollout_cached_env_steps_per_s"] = [sps_cached]
                scores.setdefault(method, []).append(score(R))
                speed.setdefault("eval_env_steps_per_s", []).append(sps)
                run.log(0, {f"{method}/score": scores[method][-1]})
            if run is not None:
                run.finish({k: v[-1] for k, v in scores.items()})
    cleanup()
    if info.rank != 0:
        return {}
    metrics: dict = {f"{tag}_{k}_score": float(np.mean(v)) for k, v in scores.items()}
    metrics |= {f"{tag}_{k}_score_stats": summarize(v) for k, v in scores.items()}
    metrics[f"{tag}_target_spearman"] = float(np.mean(spearman)) if spearman else float("nan")
    metrics[f"{tag}_target_spearman_stats"] = summarize(spearman)
    metrics |= {f"{tag}_{k}_policy_shift_stats": summarize(v) for k, v in shift.items() if v}
    metrics |= {k: float(np.mean(v)) for k, v in speed.items()}
    if "rollout_naive_env_steps_per_s" in speed:
        metrics["rollout_speedup"] = (
            metrics["rollout_cached_env_steps_per_s"] / metrics["rollout_naive_env_steps_per_s"]
        )
    metrics |= {
        "target_sweep": {"targets": [f * y_max for f in E.sweep_fracs], "mean_returns": sweep},
        "y_star": y_star,
        "lpt_return_fit_corr": float(np.mean(fit)) if fit else None,
        "plan_abs_error": float(np.mean(plan_err)) if plan_err else None,
        "ref_min_random": refs[0] if refs else None,
        "ref_max_controller": refs[1] if refs else None,
        "data": {
            "path": str(data_path),
            "n_trajectories": data.n,
            "n_transitions": int(data.lengths.sum()),
            "return_mean": float(data.returns.mean()),
            "return_max": y_max,
            "frac_nonzero_return": float((data.returns > 0).mean()),
        }
        | data_policy_stats(cfg, data_path),
        "seeds": list(cfg.seeds),
        "profile": profile,
        "device": str(device),
    }
    metrics["wall_time_s"] = time.time() - t_start
    _write_outputs(metrics, curves, steps, tag, out, profile, cfg, side_run)
    return metrics


def data_policy_stats(cfg: Config, path: Path) -> dict:
    """Connect Four: mean game result of each data policy (specialised, strong)."""
    if not is_connect4(cfg.data.env):
        return {}
    return {"policy_mean_return": connect4.data_policy_win_rates(load_d4rl(path))}


def _write_outputs(
    metrics: dict,
    curves: dict,
    steps: list[int],
    tag: str,
    out: Path,
    profile: str,
    cfg: Config,
    side_run: bool,
) -> None:
    """metrics.json, figures and the report. Maze2D-UMaze owns metrics.json and RESULTS.md; every
    other environment writes ``<tag>_*`` files, merges its ``<tag>_*`` keys into metrics.json and
    (for the committed cpu-<env> runs) its section into RESULTS.md."""
    prefix = "" if tag == MAIN_TAG else f"{tag}_"
    if not prefix and (out / "metrics.json").exists():  # keep the other environments' keys
        old = json.loads((out / "metrics.json").read_text())
        metrics.update({k: v for k, v in old.items() if k.startswith(SIDE_PREFIXES)})
    write_metrics(out / f"{prefix}metrics.json", metrics)
    if prefix:
        merge_metrics(out / "metrics.json", metrics, tag)
    report = out / f"{prefix}RESULTS.md"
    if profile == "cpu" and cfg.out is None:
        report = PROJECT_ROOT / "RESULTS.md"
    elif side_run:
        report = PROJECT_ROOT / f".{tag}_section.md"
    kept = [] if prefix else [marked_section(report, t) for t in SECTIONS]  # survive a cpu run
    write_report(metrics, curves, steps, tag, out, profile, cfg, results_md=report, prefix=prefix)
    for section in kept:
        append_section(report, section)
    if side_run:
        merge_section(
            PROJECT_ROOT / "RESULTS.md", report, SECTIONS[tag].format(profile=profile), tag
        )
