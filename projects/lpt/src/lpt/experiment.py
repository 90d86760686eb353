"""The experiment behind ``python -m lpt.reproduce``.

Trains LPT, LPT without the UNet prior, DT-final-return and BC on the same data and backbone for
every seed, evaluates LPT (ω = 1), LPT-EI (ω > 1), a sweep over requested returns y*, measures
what the gates need (the data-generating policy vs a random one on fresh evaluation episodes,
every method's action loss vs the mean action), judges the gates and claims of ``lpt.claims``,
and writes the ``reprokit.metrics/1`` document metrics.json (+ figures, + RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
    is_maze,
    load_trajectories,
    maze_of,
)
from lpt.diagnostics import chain_movement, gradient_balance
from lpt.evaluate import (
    Spec,
    action_fit,
    mean_action_fit,
    plan,
    planning_reference,
    policy_shift,
    return_fit,
    rollout,
)
from lpt.gym_mujoco import D4RL_REF, MujocoSpec
from lpt.langevin import LatentBuffer
from lpt.maze2d import (
    MazeSpec,
    eval_spec,
    goal_bound,
    reference_returns,
    starts_like_evaluation,
)
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
DIAGNOSED_ENV = "maze2d-umaze"  # G_bc_goal measured here
CHAIN_ENVS = ("maze2d-umaze", "connect4")  # G_chain and the gradient balance measured here
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIT_TRAJECTORIES = 64  # training trajectories per seed for the G_fit_* gates
UNDEFINED = {"return_fit_corr/lpt": "Pearson r is undefined: r_γ(U(z0)) is constant"}
# cpu-<env> profiles write results/cpu/<env>_* and a section of RESULTS.md, beside the cpu run;
# cpu-long (the cpu task at the central claim's budget) writes results/cpu/long_* and its section.
SIDE_PROFILES = ("cpu-long", "cpu-halfcheetah", "cpu-connect4", "cpu-maze2d-medium")
SECTION_OF_PROFILE = {"cpu-long": "long"}  # else the environment's tag
EXPECTED = {
    "smoke": "~1 min on 2 CPU cores",
    "cpu": "~11 min of one CPU core (one CPU slot)",
    "cpu-long": "~40 min of one CPU core (one CPU slot)",
    "cpu-d4rl": "~12 min on 2 CPU cores",
    "cpu-halfcheetah": "~7 min on 2 CPU cores",
    "cpu-connect4": "~10 min on 2 CPU cores (~30 min on 2 loaded cores)",
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
    if cfg.eval.reference == "matched" and not is_maze(cfg.data.env):
        raise UserError(
            f"--eval.reference matched is defined for Maze2D only (data.env {cfg.data.env}): "
            "use --eval.reference best"
        )
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
    model, buffer, data, y: float, cfg: Config, seed: int, start: int, omega: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``evaluate.plan`` for one plan per evaluation episode with the profile's Langevin, the
    chains started at the planning reference ``start``."""
    L = cfg.langevin
    B = cfg.eval.n_episodes
    return plan(model, buffer, data, y, B, L.n_test, L.step_size, omega, L.sigma_y2, seed, start)


def _reference(cfg: Config, data: Trajectories, spec: Spec) -> int:
    """The planning reference of ``eval.reference`` (y* and the chains' start; stated in the
    profile before the run): ``best`` = the data's best trajectory; ``matched`` = the best among
    the trajectories that start as evaluation episodes do (Maze2D: outside the goal radius)."""
    eligible = np.ones(data.n, dtype=bool)
    if cfg.eval.reference == "matched" and isinstance(spec, MazeSpec):
        first = np.stack([s[0, :2] for s in data.states])
        eligible = starts_like_evaluation(first, spec.goal_xy)
    try:
        return planning_reference(data.returns, eligible)
    except ValueError as e:
        raise UserError(f"--eval.reference {cfg.eval.reference}: {e}") from None


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
    reference: int  # the planning reference trajectory (y* and the chains' start)
    y_star: float

    @property
    def y_ref(self) -> float:
        """The reference trajectory's return: y* and the sweep are fractions of it."""
        return float(self.data.returns[self.reference])

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
    ref = _reference(cfg, data, spec)
    y_star = E.target if E.target is not None else E.target_frac * float(data.returns[ref])
    setup = Setup(cfg, data, spec, refs, _oracle_fn(cfg, spec), device, info, ref, y_star)
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
        "planning_reference": reference_info(setup),
        "refs": {"random": refs[0], "oracle": refs[1]} if refs else None,
        "target_sweep": {
            "targets": [f * setup.y_ref for f in E.sweep_fracs],
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


@dataclass
class SeedEval:
    """One seed's evaluation: the episodes and index sets every method shares, the numbers."""

    setup: Setup
    seed: int
    env_seeds: list[int]  # evaluation episodes
    y_ends: tuple[float, float]  # the two ends of the y* sweep (policy_shift)
    shift_idx: np.ndarray  # data trajectories of policy_shift
    fit_idx: np.ndarray  # training trajectories of the G_fit_* gates, the same for every method
    per_seed: dict[str, float] = field(default_factory=dict)
    once: dict[str, float] = field(default_factory=dict)  # measured once (rollout timing)
    sweep: list[list[float]] = field(default_factory=list)
    reach: list[float] = field(default_factory=list)  # share of episodes with a non-zero return

    def put(self, name: str, value: float) -> None:
        self.per_seed[name] = float(value)

    def episodes(self, R: np.ndarray) -> np.ndarray:
        """Record the share of ``R``'s episodes that reached a non-zero return; return ``R``."""
        self.reach.append(float((R != 0).mean()))
        return R


@dataclass
class Trained:
    """One trained method with its evaluation closures."""

    method: str
    model: torch.nn.Module
    buffer: LatentBuffer | None  # the persistent posterior chains (LPT variants)
    play: Callable  # rollout on the seed's evaluation episodes: (cond, decode) -> (R, steps/s)
    plan_for: Callable  # y (, omega) -> (z, ŷ): Langevin planning (LPT variants)
    decode: dict  # {"decode_seed": seed} when discrete actions are sampled, else {}


def _evaluate_seed(setup: Setup, seed: int, folder: Path, session: Session, run: Run) -> dict:
    """Rank 0's part of a seed unit: every method trained and evaluated, the gate references."""
    cfg, data, E = setup.cfg, setup.data, setup.cfg.eval
    ev = SeedEval(
        setup,
        seed,
        env_seeds=[100_000 * (seed + 1) + i for i in range(E.n_episodes)],
        y_ends=(min(E.sweep_fracs) * setup.y_ref, max(E.sweep_fracs) * setup.y_ref),
        shift_idx=np.random.default_rng(seed).choice(data.n, E.n_episodes),
        fit_idx=np.random.default_rng([seed, 1]).choice(
            data.n, min(data.n, FIT_TRAJECTORIES), replace=False
        ),
    )
    curves: dict[str, list[float]] = {}
    steps: list[int] = []
    for method in cfg.methods:
        ckpt = _ckpt_dir(session, folder, method)
        res = train(method, cfg, data, seed, setup.device, _hooks(run, session), ckpt, setup.info)
        ev.put(f"speed/train_iters_per_s/{method}", res.iters_per_s)
        curves[method], steps = res.history[res.model.action_loss_name], res.history["step"]
        ev.put(f"action_fit/{method}", action_fit(res.model, res.buffer, data, ev.fit_idx))
        sampled = data.discrete and E.decoding == "sample"
        trained = Trained(
            method,
            res.model,
            res.buffer,
            play=partial(rollout, res.model, setup.spec, data, ev.env_seeds),
            plan_for=partial(
                _plan, res.model, res.buffer, data, cfg=cfg, seed=seed, start=setup.reference
            ),
            decode={"decode_seed": seed} if sampled else {},
        )
        R, sps = EVALUATE[method](ev, trained)
        ev.put(f"score/{method}", setup.score(R))
        ev.put(f"speed/eval_env_steps_per_s/{method}", sps)
        run.log(0, {f"{method}/score": ev.per_seed[f"score/{method}"]})
    _references(ev, session, folder)
    return {
        "per_seed": ev.per_seed,
        "once": ev.once,
        "curves": curves,
        "sweep": ev.sweep,
        "steps": steps,
    }


def _greedy(ev: SeedEval, t: Trained, cond: dict) -> None:
    """Discrete actions sampled: also score the greedy (most likely legal move) policy."""
    if t.decode:
        ev.put(f"score_greedy/{t.method}", ev.setup.score(t.play(**cond)[0]))


def evaluate_bc(ev: SeedEval, t: Trained) -> tuple[np.ndarray, float]:
    """BC: the unconditioned policy on the evaluation episodes."""
    R, sps = t.play(**t.decode)
    ev.episodes(R)
    _greedy(ev, t, {})
    return R, sps


def evaluate_dt(ev: SeedEval, t: Trained) -> tuple[np.ndarray, float]:
    """DT-final-return conditioned on R = y*, and how much the requested return moves it."""
    E, data, device = ev.setup.cfg.eval, ev.setup.data, ev.setup.device
    cond = {"y_star": ev.setup.y_star}
    R, sps = t.play(**cond, **t.decode)
    ev.episodes(R)
    ends = [{"y": torch.full((E.n_episodes,), y / data.scale, device=device)} for y in ev.y_ends]
    ev.put("policy_shift/dt", policy_shift(t.model, data, ev.shift_idx, *ends))
    _greedy(ev, t, cond)
    return R, sps


def evaluate_latent_plan(ev: SeedEval, t: Trained) -> tuple[np.ndarray, float]:
    """LPT variants: plan z for y* by posterior Langevin (Eq. 5), roll out p(τ | z)."""
    z, y_hat = t.plan_for(ev.setup.y_star)
    cond = {"z": z}
    R, sps = t.play(**cond, **t.decode)
    ev.episodes(R)
    _greedy(ev, t, cond)
    if t.method == "lpt":
        _lpt_diagnostics(ev, t, y_hat)
    return R, sps


def _lpt_diagnostics(ev: SeedEval, t: Trained, y_hat: torch.Tensor) -> None:
    """LPT only: planning error, return fit, LPT-EI, the y* sweep and its Spearman ρ, policy
    shift, rollout timing and (Maze2D-UMaze, Connect Four) the chain gate and balance."""
    setup, seed = ev.setup, ev.seed
    cfg, data, E = setup.cfg, setup.data, setup.cfg.eval
    ev.put("plan_abs_error/lpt", float((y_hat - setup.y_star).abs().mean()))
    ev.put("return_fit_corr/lpt", return_fit(t.model, t.buffer, data))
    z, _ = t.plan_for(setup.y_star, omega=cfg.langevin.omega_ei)
    ev.put("score/lpt_ei", setup.score(ev.episodes(t.play(z=z, **t.decode)[0])))
    pairs, means = [], []
    for frac in E.sweep_fracs:
        z, _ = t.plan_for(frac * setup.y_ref)
        Rf = t.play(z=z, **t.decode)[0]
        pairs += [(frac * setup.y_ref, r) for r in Rf]
        means.append(float(Rf.mean()))
    ev.sweep.append(means)
    ends = [{"z": t.plan_for(y)[0]} for y in ev.y_ends]
    ev.put("policy_shift/lpt", policy_shift(t.model, data, ev.shift_idx, *ends))
    targets, achieved = np.array(pairs).T
    constant = np.ptp(achieved) == 0  # ρ undefined: report no association
    ev.put("spearman/lpt", 0.0 if constant else spearmanr(targets, achieved)[0])
    if E.speed_steps and seed == cfg.seeds[0]:
        ev.once |= _rollout_speed(t.play, z, E.speed_steps)
    if cfg.data.env in CHAIN_ENVS:
        _put_chain_diagnostics(ev.put, t.model, t.buffer, data, ev.fit_idx, cfg, seed)


EVALUATE: dict[str, Callable[[SeedEval, Trained], tuple[np.ndarray, float]]] = {
    "lpt": evaluate_latent_plan,
    "lpt_no_unet": evaluate_latent_plan,
    "dt": evaluate_dt,
    "bc": evaluate_bc,
}


def _references(ev: SeedEval, session: Session, folder: Path) -> None:
    """The gates' references: goal-bound BC (diagnosed env), the mean-action predictor, the best
    method's reach, the random and data-generating policies on fresh episodes."""
    setup, seed = ev.setup, ev.seed
    if setup.cfg.data.env == DIAGNOSED_ENV:
        R_goal = _goal_bound_bc(setup, seed, session, folder, ev.env_seeds)
        ev.put("score/bc_goal", setup.score(R_goal))
        ev.put("reach/bc_goal", float((R_goal != 0).mean()))
    ev.put("action_fit/mean_action", mean_action_fit(setup.data, ev.fit_idx))
    ev.put("reach/best", max(ev.reach))
    if setup.oracle is not None:
        r_random, r_oracle = setup.oracle(100_000 * (seed + 1) + 50_000)
        ev.put("score/random", setup.score(np.array([r_random])))
        ev.put("score/oracle", setup.score(np.array([r_oracle])))


def _put_chain_diagnostics(
    put: Callable, model, buffer, data: Trajectories, idx: np.ndarray, cfg: Config, seed: int
) -> None:
    """G_chain's policy distances and the gradient balance of Eq. 5 (``lpt.diagnostics``)."""
    for k, v in chain_movement(model, buffer, data, idx, seed).items():
        put(f"chain/{k}", v)
    L = cfg.langevin
    balance = gradient_balance(
        model, buffer, data, idx, L.step_size, L.sigma_a2, L.sigma_y2, L.ce_weight
    )
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


def reference_info(setup: Setup) -> dict:
    """The planning reference for the report: rule, trajectory, its return and (Maze2D) how far
    from the goal it starts."""
    out = {
        "rule": setup.cfg.eval.reference,
        "trajectory": setup.reference,
        "return": setup.y_ref,
    }
    if isinstance(setup.spec, MazeSpec):
        start = setup.data.states[setup.reference][0, :2]
        out["start_distance_to_goal"] = float(np.linalg.norm(start - setup.spec.goal_xy))
    return out


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
    """metrics.json, figures and the report; the paths written. The cpu profile (Maze2D-UMaze)
    owns ``metrics.json`` and RESULTS.md; cpu-long and every other environment write their own
    ``<section>_metrics.json`` document and (for the committed runs) a marked section of
    RESULTS.md; a cpu run keeps those sections."""
    section = SECTION_OF_PROFILE.get(profile, tag)
    prefix = "" if section == MAIN_TAG else f"{section}_"
    out = target.dir
    metrics = ev.write(out / f"{prefix}metrics.json", doc["wall_time_s"], info=doc["info"])
    side_run = target.committed and profile in SIDE_PROFILES
    report = target.results_md if target.committed else out / f"{prefix}RESULTS.md"
    if side_run:
        report = PROJECT_ROOT / f".{section}_section.md"
    kept = [] if prefix else [marked_section(report, t) for t in SECTIONS]  # survive a cpu run
    write_report(doc, curves, steps, tag, out, cfg, results_md=report, prefix=prefix)
    keep_sections(report, kept)
    if side_run:
        heading = SECTIONS[section].format(profile=doc["profile"])
        merge_section(PROJECT_ROOT / "RESULTS.md", report, heading, section)
        report = PROJECT_ROOT / "RESULTS.md"
    return [report, metrics, *sorted(out.glob(f"{prefix}*.png"))]
