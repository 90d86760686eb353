"""The experiment behind ``python -m lpt.reproduce``.

Trains LPT, LPT without the UNet prior, DT-final-return and BC on the same data and backbone for
every seed, evaluates LPT (ω = 1), LPT-EI (ω > 1), a sweep over requested returns y*, measures
what the gates need (the data-generating policy vs a random one on fresh evaluation episodes,
every method's action loss vs the mean action), judges the gates and claims of ``lpt.claims``,
and writes the ``reprokit.metrics/1`` document metrics.json (+ figures, + RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from lpt import connect4, halfcheetah
from lpt.claims import judge
from lpt.configs import PROFILES, Config
from lpt.data import (
    GYM_MUJOCO,
    Trajectories,
    best_generator_theta,
    check_env,
    is_connect4,
    load_trajectories,
    maze_of,
)
from lpt.diagnostics import chain_movement, gradient_balance
from lpt.evaluate import (
    Spec,
    action_fit,
    mean_action_fit,
    plan,
    policy_shift,
    return_fit,
    rollout,
)
from lpt.gym_mujoco import D4RL_REF, MujocoSpec
from lpt.maze2d import eval_spec, goal_bound, reference_returns
from lpt.reporting import SECTIONS, write_report
from lpt.train import Hooks, check_model, total_steps, train
from reprokit.cache import cached_npz, data_dir
from reprokit.claims import Evidence
from reprokit.config import to_dict
from reprokit.distributed import DistInfo, cleanup
from reprokit.errors import UserError
from reprokit.lifecycle import ReportTarget, Session, check_device, footer, header, report_target
from reprokit.offline_rl import load_d4rl, normalized_score
from reprokit.report import jsonable, keep_sections, marked_section, merge_section
from reprokit.runlog import Run, runs_root
from reprokit.seeding import seed_everything

MAIN_TAG = "maze2d_umaze"  # owns metrics.json and RESULTS.md; the others are sections
DIAGNOSED_ENV = "maze2d-umaze"  # G_chain / G_bc_goal measured here (per-env documents unchanged)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIT_TRAJECTORIES = 64  # training trajectories per seed for the G_fit_* gates
UNDEFINED = {"return_fit_corr/lpt": "Pearson r is undefined: r_γ(U(z0)) is constant"}
# cpu-<env> profiles write results/cpu/<env>_* and a section of RESULTS.md, beside the cpu run.
SIDE_PROFILES = ("cpu-halfcheetah", "cpu-connect4", "cpu-maze2d-medium")
EXPECTED = {
    "smoke": "~1 min on 2 CPU cores",
    "cpu": "~30 min of one CPU core (~60 min on 2 loaded cores)",
    "cpu-d4rl": "~12 min on 2 CPU cores",
    "cpu-halfcheetah": "~7 min on 2 CPU cores",
    "cpu-connect4": "~6 min on 2 CPU cores",
    "cpu-maze2d-medium": "~8 min on 2 CPU cores",
}


def preflight(cfg: Config, info: DistInfo) -> torch.device:
    """Every check that needs no data, before anything is generated or trained (one-line
    UserError): distinct seeds and methods, LPT and DT both trained, a known environment with a
    data source, model sizes that agree, an available device."""
    for name, values in (("seeds", cfg.seeds), ("methods", cfg.methods)):
        if len(set(values)) != len(values):
            raise UserError(f"--{name} {' '.join(map(str, values))}: values must be distinct")
    check_methods(cfg)
    check_env(cfg.data.env, cfg.data.path)
    check_model(cfg.model)
    name = check_device("cpu" if cfg.device == "cpu" else cfg.device)
    if info.device is not None and info.device.type == "cuda":
        return info.device
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
    if refs[0] == refs[1]:
        raise UserError(
            f"{env}: the random policy and the data policy both return {refs[0]:g} over "
            f"{cfg.eval.horizon}-step episodes, so no normalised score exists; "
            "use a longer --eval.horizon"
        )
    return spec, (float(refs[0]), float(refs[1]))


def _plan(
    model, buffer, data, y: float, cfg: Config, seed: int, omega: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``evaluate.plan`` for one plan per evaluation episode with the profile's Langevin."""
    L = cfg.langevin
    B = cfg.eval.n_episodes
    return plan(model, buffer, data, y, B, L.n_test, L.step_size, omega, L.sigma_y2, seed)


def _oracle_fn(cfg: Config, spec: Spec) -> Callable[[int], tuple[float, float]] | None:
    """``seed -> (random, data-generating policy)`` mean returns on fresh evaluation episodes (the
    G_oracle gate): Maze2D controller, best HalfCheetah generator gait, strong Connect Four data
    policy. ``None`` for data read from a D4RL file (no data-generating policy here)."""
    n, env = cfg.eval.n_episodes, cfg.data.env
    if cfg.data.path is not None:
        return None
    if is_connect4(env):
        d = cfg.data
        return lambda s: connect4.reference_results(spec, n, s, d.strong_depth, d.eps)
    if env in GYM_MUJOCO:
        theta = best_generator_theta(cfg.data)
        return lambda s: halfcheetah.reference_returns(spec, theta, n, s)
    return lambda s: reference_returns(spec, n, s)


def check_methods(cfg: Config) -> None:
    """The central claim compares LPT with DT: both must be trained (checked before training)."""
    missing = [m for m in ("lpt", "dt") if m not in cfg.methods]
    if missing:
        raise UserError(f"methods must include {' and '.join(missing)} (claim C1: LPT vs DT)")


@dataclass
class Setup:
    """What every seed unit of one environment shares (data, evaluation spec, references)."""

    cfg: Config
    data: Trajectories
    spec: Spec
    refs: tuple[float, float] | None
    oracle: Callable[[int], tuple[float, float]] | None
    device: torch.device
    info: DistInfo
    y_star: float

    def score(self, R: np.ndarray) -> float:
        return float(np.mean(R if self.refs is None else normalized_score(self.refs, R)))


def run_experiment(cfg: Config, profile: str, session: Session, info: DistInfo) -> dict:
    """One unit per seed (every method trained and evaluated), then judge and write the
    ``reprokit.metrics/1`` document where ``report_target`` says; return it (empty on ranks
    other than 0)."""
    device = preflight(cfg, info)
    data, data_path = load_trajectories(cfg.data)
    spec, refs = _spec_and_refs(cfg)
    E = cfg.eval
    y_star = E.target if E.target is not None else E.target_frac * float(data.returns.max())
    setup = Setup(cfg, data, spec, refs, _oracle_fn(cfg, spec), device, info, y_star)
    if info.rank == 0:
        header(
            session,
            expected=EXPECTED.get(profile),
            env=cfg.data.env,
            seeds=cfg.seeds,
            methods=cfg.methods,
            steps=total_steps(cfg.train, data.n, info),
            device=device.type,
        )
    per_seed: dict[str, list[float]] = {}  # metric -> one value per seed, in seed order
    once: dict[str, float] = {}  # numbers measured once (rollout timing)
    curves: dict[str, list[list[float]]] = {}
    sweep: list[list[float]] = []
    steps: list[int] = []
    for seed in cfg.seeds:
        res = session.unit(f"seed{seed}", lambda d, s=seed: seed_unit(setup, s, d, session))
        for k, v in res["per_seed"].items():
            per_seed.setdefault(k, []).append(float(v))
        once |= res["once"]
        for method, curve in res["curves"].items():
            curves.setdefault(method, []).append(curve)
        sweep += res["sweep"]
        steps = res["steps"]
    cleanup()
    if info.rank != 0:
        return {}
    if setup.oracle is None:  # a D4RL file: its best trajectories stand in for the data policy
        best = np.sort(data.returns)[-E.n_episodes :]
        per_seed["score/oracle"] = [setup.score(best)] * len(cfg.seeds)
        once["score/random"] = 0.0  # D4RL's random reference: score 0 by definition
    tag = cfg.data.env.replace("-", "_")
    ev = _judge(tag, profile, cfg, per_seed, once)
    extras = {
        "env": cfg.data.env,
        "y_star": y_star,
        "refs": {"random": refs[0], "oracle": refs[1]} if refs else None,
        "target_sweep": {
            "targets": [f * float(data.returns.max()) for f in E.sweep_fracs],
            "mean_returns": sweep,
        },
        "fit_trajectories": min(data.n, FIT_TRAJECTORIES),
        "data": data_stats(cfg, data, data_path),
        "device": str(device),
        "config": config_summary(cfg),
    }
    doc = ev.to_dict(session.wall_time_s, extras)
    target = _report_target(profile, cfg, session)
    written = _write_outputs(ev, doc, curves, steps, tag, target, cfg, profile)
    footer(session, doc, written, why=target.why)
    return doc


def _report_target(profile: str, cfg: Config, session: Session) -> ReportTarget:
    """``report_target``; an unmodified cpu-<env> profile writes the committed results/cpu/
    (its own ``<env>_*`` files and a section of RESULTS.md), like the cpu profile."""
    if profile in SIDE_PROFILES:
        return report_target(
            "lpt", "cpu", cfg, {"cpu": PROFILES[profile]}, __file__, session, out=cfg.out
        )
    return report_target("lpt", profile, cfg, PROFILES, __file__, session, out=cfg.out)


def seed_unit(setup: Setup, seed: int, folder: Path, session: Session) -> dict:
    """One seed: train every method (resumable, checkpoints in ``folder``), evaluate it, and
    measure the seed's gate references. Seeded from ``seed`` alone."""
    seed_everything(seed)
    cfg, info = setup.cfg, setup.info
    if info.rank != 0:
        for method in cfg.methods:
            train(
                method,
                cfg,
                setup.data,
                seed,
                setup.device,
                _hooks(None, session),
                _ckpt_dir(session, folder, method),
                info,
            )
        return {"per_seed": {}, "once": {}, "curves": {}, "sweep": [], "steps": []}
    with Run("lpt", session.profile, to_dict(cfg), seed=seed, folder=folder) as run:
        out = _evaluate_seed(setup, seed, folder, session, run)
        run.finish({k: v for k, v in out["per_seed"].items() if k.startswith("score")})
    return out


def _hooks(run: Run | None, session: Session) -> Hooks:
    """The unit's log and progress bar (rank 0) and the session's step boundary."""
    if run is None:
        return Hooks(boundary=session.boundary)
    return Hooks(log=run.log, progress=run.progress, boundary=session.boundary)


def _ckpt_dir(session: Session, folder: Path, method: str) -> Path:
    """The method's checkpoint folder inside rank 0's unit folder (other ranks read it)."""
    main = runs_root() / "lpt" / session.profile / session.config_hash[:12]
    unit = folder if folder.is_relative_to(main) else main / "units" / folder.name
    return unit / "checkpoints" / method


def _evaluate_seed(setup: Setup, seed: int, folder: Path, session: Session, run: Run) -> dict:
    """Rank 0's part of a seed unit: every method trained and evaluated, the gate references."""
    cfg, data, device, score = setup.cfg, setup.data, setup.device, setup.score
    E, L = cfg.eval, cfg.langevin
    y_max, y_star = float(data.returns.max()), setup.y_star
    per_seed: dict[str, float] = {}
    once: dict[str, float] = {}
    curves: dict[str, list[float]] = {}
    sweep: list[list[float]] = []
    steps: list[int] = []

    def put(name: str, value: float) -> None:
        per_seed[name] = float(value)

    env_seeds = [100_000 * (seed + 1) + i for i in range(E.n_episodes)]
    # policy_shift: data trajectories and the two ends of the y* sweep, shared by LPT and DT
    y_ends = (min(E.sweep_fracs) * y_max, max(E.sweep_fracs) * y_max)
    shift_idx = np.random.default_rng(seed).choice(data.n, E.n_episodes)
    # G_fit_*: the same training trajectories for every method and the mean-action predictor
    fit_idx = np.random.default_rng([seed, 1]).choice(
        data.n, min(data.n, FIT_TRAJECTORIES), replace=False
    )
    reach: list[float] = []  # share of episodes with a non-zero return, per method
    for method in cfg.methods:
        ckpt = _ckpt_dir(session, folder, method)
        res = train(method, cfg, data, seed, device, _hooks(run, session), ckpt, setup.info)
        put(f"speed/train_iters_per_s/{method}", res.iters_per_s)
        curves[method] = res.history[res.model.action_loss_name]
        steps = res.history["step"]
        model = res.model
        put(f"action_fit/{method}", action_fit(model, res.buffer, data, fit_idx))
        sampled = data.discrete and E.decoding == "sample"
        play = partial(rollout, model, setup.spec, data, env_seeds)
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
        reach.append(float((R != 0).mean()))
        if method == "dt":  # how much the requested return moves DT's policy
            ends = [
                {"y": torch.full((E.n_episodes,), y / data.scale, device=device)} for y in y_ends
            ]
            put("policy_shift/dt", policy_shift(model, data, shift_idx, *ends))
        if sampled:  # discrete actions: also the greedy (most likely legal move) policy
            put(f"score_greedy/{method}", score(play(**cond)[0]))
        if method == "lpt":
            put("plan_abs_error/lpt", float((y_hat - y_star).abs().mean()))
            put("return_fit_corr/lpt", return_fit(model, res.buffer, data))
            z, _ = plan_for(y_star, omega=L.omega_ei)
            R_ei = play(z=z, **decode)[0]
            reach.append(float((R_ei != 0).mean()))
            put("score/lpt_ei", score(R_ei))
            pairs, means = [], []
            for frac in E.sweep_fracs:
                z, _ = plan_for(frac * y_max)
                Rf = play(z=z, **decode)[0]
                pairs += [(frac * y_max, r) for r in Rf]
                means.append(float(Rf.mean()))
            sweep.append(means)
            ends = [{"z": plan_for(y)[0]} for y in y_ends]
            put("policy_shift/lpt", policy_shift(model, data, shift_idx, *ends))
            targets, achieved = np.array(pairs).T
            constant = np.ptp(achieved) == 0  # ρ undefined: report no association
            put("spearman/lpt", 0.0 if constant else spearmanr(targets, achieved)[0])
            if E.speed_steps and seed == cfg.seeds[0]:
                once |= _rollout_speed(play, z, E.speed_steps)
            if cfg.data.env == DIAGNOSED_ENV:
                _put_chain_diagnostics(put, model, res.buffer, data, fit_idx, cfg, seed)
        put(f"score/{method}", score(R))
        put(f"speed/eval_env_steps_per_s/{method}", sps)
        run.log(0, {f"{method}/score": per_seed[f"score/{method}"]})
    if cfg.data.env == DIAGNOSED_ENV:
        R_goal = _goal_bound_bc(setup, seed, session, folder, env_seeds)
        put("score/bc_goal", score(R_goal))
        put("reach/bc_goal", float((R_goal != 0).mean()))
    put("action_fit/mean_action", mean_action_fit(data, fit_idx))
    put("reach/best", max(reach))
    if setup.oracle is not None:
        r_random, r_oracle = setup.oracle(100_000 * (seed + 1) + 50_000)
        put("score/random", score(np.array([r_random])))
        put("score/oracle", score(np.array([r_oracle])))
    return {"per_seed": per_seed, "once": once, "curves": curves, "sweep": sweep, "steps": steps}


def _put_chain_diagnostics(
    put: Callable, model, buffer, data: Trajectories, idx: np.ndarray, cfg: Config, seed: int
) -> None:
    """G_chain's policy distances and the gradient balance of Eq. 5 (``lpt.diagnostics``)."""
    for k, v in chain_movement(model, buffer, data, idx, seed).items():
        put(f"chain/{k}", v)
    L = cfg.langevin
    balance = gradient_balance(model, buffer, data, idx, L.step_size, L.sigma_a2, L.sigma_y2)
    for k, v in balance.items():
        put(f"balance/{k}", v)


def _goal_bound_bc(
    setup: Setup, seed: int, session: Session, folder: Path, env_seeds: list[int]
) -> np.ndarray:
    """G_bc_goal: BC trained (``eval.bc_goal_steps``) only on the segments that end at the
    evaluation goal, same normaliser and evaluation episodes; its returns."""
    cfg, data = setup.cfg, setup.data
    final = np.stack([s[-1, :2] for s in data.states])
    subset = data.subset(np.flatnonzero(goal_bound(final, setup.spec.goal_xy)))
    gate_cfg = replace(cfg, train=replace(cfg.train, steps=cfg.eval.bc_goal_steps, epochs=None))
    ckpt = _ckpt_dir(session, folder, "bc_goal")
    res = train("bc", gate_cfg, subset, seed, setup.device, Hooks(boundary=session.boundary), ckpt)
    return rollout(res.model, setup.spec, subset, env_seeds)[0]


def _rollout_speed(play: Callable, z: torch.Tensor, n_steps: int) -> dict[str, float]:
    """Env steps per second of the cached and the naive rollout, side by side (after warm-up)."""
    play(z=z, horizon=5)  # warm-up
    naive = play(z=z, cached=False, horizon=n_steps)[1]
    cached = play(z=z, horizon=n_steps)[1]
    return {
        "speed/rollout_naive_env_steps_per_s": naive,
        "speed/rollout_cached_env_steps_per_s": cached,
        "speed/rollout_speedup": cached / naive,
    }


def _judge(
    tag: str, profile: str, cfg: Config, per_seed: dict[str, list[float]], once: dict
) -> Evidence:
    """``lpt.claims.judge``, with the reason of every non-finite value this run can produce."""
    missing = {
        k: UNDEFINED.get(k, "non-finite value")
        for k, v in per_seed.items()
        if not np.all(np.isfinite(v))
    }
    return judge(tag, profile, cfg.seeds, cfg.methods, per_seed, once, missing)


def data_stats(cfg: Config, data, path: Path) -> dict:
    """Size and returns of the data; its file relative to $REPROKIT_DATA (or its name)."""
    try:
        file = path.resolve().relative_to(data_dir().resolve()).as_posix()
    except ValueError:
        file = path.name
    out = {
        "file": file,
        "n_trajectories": data.n,
        "n_transitions": int(data.lengths.sum()),
        "return_mean": float(data.returns.mean()),
        "return_max": float(data.returns.max()),
        "frac_nonzero_return": float((data.returns > 0).mean()),
    }
    if is_connect4(cfg.data.env):  # mean game result of each data policy
        out["policy_mean_return"] = connect4.data_policy_win_rates(load_d4rl(path))
    return out


def config_summary(cfg: Config) -> dict:
    """The resolved config without machine paths (``out`` left out, the data file by name)."""
    d = jsonable(cfg)
    d.pop("out", None)
    if cfg.data.path is not None:
        d["data"]["path"] = Path(cfg.data.path).name
    return d


def _write_outputs(
    ev: Evidence,
    doc: dict,
    curves: dict,
    steps: list[int],
    tag: str,
    target: ReportTarget,
    cfg: Config,
    profile: str,
) -> list[Path]:
    """metrics.json, figures and the report; the paths written. Maze2D-UMaze owns
    ``metrics.json`` and RESULTS.md; every other environment writes its own
    ``<tag>_metrics.json`` document and (for the committed cpu-<env> runs) a marked section of
    RESULTS.md; a cpu run keeps those sections."""
    prefix = "" if tag == MAIN_TAG else f"{tag}_"
    out = target.dir
    metrics = ev.write(out / f"{prefix}metrics.json", doc["wall_time_s"], info=doc["info"])
    side_run = target.committed and profile in SIDE_PROFILES
    report = target.results_md if target.committed else out / f"{prefix}RESULTS.md"
    if side_run:
        report = PROJECT_ROOT / f".{tag}_section.md"
    kept = [] if prefix else [marked_section(report, t) for t in SECTIONS]  # survive a cpu run
    write_report(doc, curves, steps, tag, out, cfg, results_md=report, prefix=prefix)
    keep_sections(report, kept)
    if side_run:
        heading = SECTIONS[tag].format(profile=doc["profile"])
        merge_section(PROJECT_ROOT / "RESULTS.md", report, heading, tag)
        report = PROJECT_ROOT / "RESULTS.md"
    return [report, metrics, *sorted(out.glob(f"{prefix}*.png"))]
