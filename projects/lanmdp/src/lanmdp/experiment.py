"""The cubic-task experiment: per-seed data, the (seed, L) ensemble and the units of a run.

Members are ordered seed-major: member i = (seeds[i // K], context_lengths[i % K]). Every unit
returns ``{metric name: one value per seed}`` (names as in ``claims``) plus figure material.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lanmdp.configs import Config
from lanmdp.cubic import CurveSpec, contexts, fit_cubic, sample_curves, true_actions
from lanmdp.evaluate import action_error, execute, path_metrics, random_action_error
from lanmdp.langevin import LangevinSpec
from lanmdp.model import EnergyPolicy, RegressionPolicy
from lanmdp.planning import PlanSpec, plan_rollout
from lanmdp.policies import (
    lanmdp_policy,
    oracle_policy,
    random_policy,
    regression_policy,
    zero_policy,
)
from lanmdp.train import EnergyTraining, Windows, train_energy, train_regression


@dataclass
class SeedData:
    """One seed's draw: training curves, held-out curves, fresh starts (eval and validation)."""

    train: np.ndarray  # (n_train, T+1)
    heldout: np.ndarray  # (n_heldout, T+1)
    y0: np.ndarray  # (eval_starts,)
    y0_val: np.ndarray  # (val_starts,)
    goal_noise: np.ndarray  # (eval_starts,) N(0, 1) draws of the planning goal
    goal_noise_val: np.ndarray  # (val_starts,)


def draw(cfg: Config, seed: int) -> SeedData:
    """The seed's data, from its own generator (the same in every unit)."""
    rng = np.random.default_rng(seed)
    spec = CurveSpec(c3_min=cfg.data.c3_min)
    train = sample_curves(cfg.data.train_curves, rng, spec)
    heldout = sample_curves(cfg.data.heldout_curves, rng, spec)
    n, v = cfg.data.eval_starts, cfg.plan.val_starts
    y0, y0_val = rng.uniform(-1.0, 1.0, n), rng.uniform(-1.0, 1.0, v)
    return SeedData(train, heldout, y0, y0_val, rng.standard_normal(n), rng.standard_normal(v))


class Ensemble:
    """The members' tensors: training windows, held-out full-context windows, fresh starts."""

    def __init__(self, cfg: Config, lengths: tuple[int, ...], device: torch.device) -> None:
        self.cfg, self.device = cfg, device
        self.seeds = list(cfg.seeds)
        self.lengths = [L for _ in self.seeds for L in lengths]
        self.L_max = max(cfg.model.context_lengths)
        data = [draw(cfg, s) for s in self.seeds]
        self.data = data
        k = len(lengths)
        per_member = [d for d in data for _ in range(k)]
        self.windows = Windows(
            self.tensor(
                [contexts(d.train, self.L_max).reshape(-1, 2 * self.L_max) for d in per_member]
            ),
            self.tensor([d.train[:, :-1].reshape(-1) for d in per_member]),
            self.tensor([d.train[:, 1:].reshape(-1) for d in per_member]),
            self.tensor([true_actions(d.train).reshape(-1) for d in per_member]),
        )
        full = slice(self.L_max - 1, None)  # steps whose history is all real states
        self.heldout_ctx = self.tensor(
            [
                contexts(d.heldout, self.L_max)[:, full].reshape(-1, 2 * self.L_max)
                for d in per_member
            ]
        )
        self.heldout_a = self.tensor(
            [true_actions(d.heldout)[:, full].reshape(-1) for d in per_member]
        )
        self.y0 = self.tensor([d.y0 for d in per_member])
        self.y0_val = self.tensor([d.y0_val for d in per_member])
        self.k = k

    def tensor(self, arrays: list[np.ndarray]) -> torch.Tensor:
        return torch.tensor(np.stack(arrays), dtype=torch.float32, device=self.device)

    def per_seed(self, values: np.ndarray) -> np.ndarray:
        """(M,) member values → (n_seeds, K)."""
        return np.asarray(values, dtype=np.float64).reshape(len(self.seeds), self.k)

    def execute(self, policy, y0: torch.Tensor | None = None):
        e = self.cfg.eval
        return execute(policy, self.y0 if y0 is None else y0, self.L_max, e.c3_test, e.tau)


def _named(out: dict, prefix: str, values: np.ndarray, lengths: tuple[int, ...]) -> None:
    """Add ``prefix_L{L}`` for every context length (values (n_seeds, K))."""
    for j, L in enumerate(lengths):
        out[f"{prefix}_L{L}"] = values[:, j].tolist()


def references(cfg: Config, device: torch.device) -> dict:
    """Data validity, the nearest-neighbour oracles at every L, random and zero actions."""
    lengths = tuple(cfg.model.context_lengths)
    ens = Ensemble(cfg, lengths, device)
    e = cfg.eval
    out: dict = {
        "valid/data": [float(fit_cubic(d.train).valid(e.c3_test, e.tau).mean()) for d in ens.data]
    }
    oracle = oracle_policy(ens.windows.ctx, ens.windows.a_true, ens.lengths)
    paths, m = ens.execute(oracle)
    _named(out, "valid/oracle", ens.per_seed(m["valid"]), lengths)
    _named(out, "c3_only/oracle", ens.per_seed(m["c3_only"]), lengths)
    _named(
        out,
        "action_err/oracle",
        ens.per_seed(action_error(oracle, ens.heldout_ctx, ens.heldout_a)),
        lengths,
    )
    for name, policy in (("random", random_policy), ("zero", zero_policy)):
        _, m = ens.execute(policy)
        out[f"valid/{name}"] = ens.per_seed(m["valid"]).mean(1).tolist()
        out[f"c3_only/{name}"] = ens.per_seed(m["c3_only"]).mean(1).tolist()
    err = action_error(zero_policy, ens.heldout_ctx, ens.heldout_a)
    out["action_err/zero"] = ens.per_seed(err).mean(1).tolist()
    out["action_err/random"] = ens.per_seed(random_action_error(ens.heldout_a)).mean(1).tolist()
    return {"metrics": out, "paths": paths[: ens.k, :8].cpu().numpy()}


def energy_training(cfg: Config) -> tuple[EnergyTraining, LangevinSpec]:
    """The learning loop's settings from the config."""
    t = cfg.train
    tc = EnergyTraining(
        t.iterations, t.batch_size, t.n_prior, t.langevin_steps, t.sigma, t.log_p_floor,
        t.f_sq, t.grad_penalty, t.lr, t.decay_from, t.clip, t.ckpt_every, t.log_every,
    )  # fmt: skip
    return tc, LangevinSpec(t.step_size, t.noise, t.grad_clamp)


def regression(cfg: Config, device: torch.device, progress: Callable, boundary: Callable) -> dict:
    """The MSE regression reference at L = 1 and L = L_max (same width, steps and lr)."""
    lengths = (min(cfg.model.context_lengths), max(cfg.model.context_lengths))
    ens = Ensemble(cfg, lengths, device)
    model = RegressionPolicy(ens.lengths, cfg.model.hidden, cfg.model.layers).to(device)
    train_regression(model, ens.windows, energy_training(cfg)[0], progress, boundary)
    policy = regression_policy(model)
    _, m = ens.execute(policy)
    out: dict = {}
    _named(out, "valid/regression", ens.per_seed(m["valid"]), lengths)
    _named(out, "c3_only/regression", ens.per_seed(m["c3_only"]), lengths)
    err = action_error(policy, ens.heldout_ctx, ens.heldout_a)
    _named(out, "action_err/regression", ens.per_seed(err), lengths)
    return {"metrics": out}


def build_energy(cfg: Config, device: torch.device) -> tuple[Ensemble, EnergyPolicy]:
    """The LanMDP ensemble over every (seed, L) and its data."""
    ens = Ensemble(cfg, tuple(cfg.model.context_lengths), device)
    model = EnergyPolicy(ens.lengths, cfg.model.hidden, cfg.model.layers).to(device)
    return ens, model


def lanmdp(cfg: Config, device: torch.device, folder: Path, config: dict, hooks) -> dict:
    """Train the LanMDP ensemble (resumable); execution metrics, teacher-forced action error and
    the posterior check, per (seed, L)."""
    lengths = tuple(cfg.model.context_lengths)
    ens, model = build_energy(cfg, device)
    tc, spec = energy_training(cfg)
    log, boundary, progress = hooks
    trained = train_energy(
        model, ens.windows, tc, spec, folder / "checkpoints", config, log, boundary, progress
    )
    torch.manual_seed(10_000 + cfg.seeds[0])  # evaluation noise, independent of resumption
    policy = lanmdp_policy(model, cfg.eval.langevin_steps, spec)
    paths, m = ens.execute(policy)
    out: dict = {}
    for key in ("valid", "c3_only", "residual"):
        _named(out, f"{key}/lanmdp", ens.per_seed(m[key]), lengths)
    err = action_error(policy, ens.heldout_ctx, ens.heldout_a)
    _named(out, "action_err/lanmdp", ens.per_seed(err), lengths)
    _named(out, "post_ratio/lanmdp", ens.per_seed(trained["post_ratio"]), lengths)
    out["train_time_s/lanmdp"] = [trained["train_s"] / len(ens.seeds)] * len(ens.seeds)
    return {"metrics": out, "paths": paths[: ens.k, :8].cpu().numpy(), "curve": trained["curve"]}


def planning(cfg: Config, device: torch.device, checkpoint: dict) -> dict:
    """Planning vs the policy vs goal-only on the L_max models. α is chosen on validation starts
    (lowest goal error among the α whose valid-cubic rate stays within ``VALID_TOLERANCE`` of the
    policy's, else the most valid), then every method runs on the evaluation starts with the
    same policy paths and goals."""
    ens, full = build_energy(cfg, device)
    full.load_state_dict(checkpoint["model"])
    keep = [i for i, L in enumerate(ens.lengths) if ens.L_max == L]
    model = full.select(keep)
    _, spec = energy_training(cfg)
    policy = lanmdp_policy(model, cfg.eval.langevin_steps, spec)
    p = cfg.plan
    torch.manual_seed(20_000 + cfg.seeds[0])
    val = _plan_all(cfg, model, ens, policy, ens.y0_val[keep], "goal_noise_val", p.alphas)
    best = choose_alpha(val, p.alphas)
    test = _plan_all(cfg, model, ens, policy, ens.y0[keep], "goal_noise", (best,), True)
    out: dict = {}
    methods = ("plan", best), ("policy", "policy"), ("goal_only", "goal_only")
    for method, key in (*methods, ("energy_only", "energy_only")):
        out[f"goal_err/{method}"] = test[key]["goal_err"].tolist()
        out[f"valid/{method}"] = test[key]["valid"].tolist()
    for method, key in (("plan", best), ("energy_only", "energy_only")):
        out[f"valid_drop/{method}"] = (test["policy"]["valid"] - test[key]["valid"]).tolist()
    table = {str(a): {k: v.tolist() for k, v in val[a].items()} for a in ("policy", *p.alphas)}
    return {"metrics": out, "info": {"alpha": best, "validation": table}}


VALID_TOLERANCE = 0.1  # the planning claim's tolerance on the valid-cubic rate (note, risk 7)


def choose_alpha(val: dict, alphas: tuple[float, ...]) -> float:
    """The validation rule of ``planning`` (means over seeds)."""
    floor = val["policy"]["valid"].mean() - VALID_TOLERANCE
    kept = [a for a in alphas if val[a]["valid"].mean() >= floor]
    if kept:
        return min(kept, key=lambda a: val[a]["goal_err"].mean())
    return max(alphas, key=lambda a: val[a]["valid"].mean())


def _plan_all(
    cfg: Config,
    model: EnergyPolicy,
    ens: Ensemble,
    policy,
    y0: torch.Tensor,
    noise_key: str,
    alphas: tuple[float, ...],
    goal_only: bool = False,
) -> dict:
    """Policy paths from y0 (one row per seed), goals from them, then the planner for each α
    (and the goal-only and energy-only controls): {key: {"valid", "goal_err"} (n_seeds,)}."""
    p, e = cfg.plan, cfg.eval
    paths, _ = execute(policy, y0, ens.L_max, e.c3_test, e.tau)
    noise = torch.tensor(
        np.stack([getattr(d, noise_key) for d in ens.data]), dtype=torch.float32, device=ens.device
    )
    goal = (paths[..., -1] + p.goal_noise * noise).clamp(-1.0, 1.0)
    langevin = LangevinSpec(p.step_size, cfg.train.noise, cfg.train.grad_clamp)
    runs = {"policy": paths}
    for alpha in alphas:
        runs[alpha] = plan_rollout(model, paths, goal, PlanSpec(p.start, p.steps, alpha, langevin))
    if goal_only:
        spec = PlanSpec(p.start, p.steps, alphas[0], langevin, goal_only=True)
        runs["goal_only"] = plan_rollout(model, paths, goal, spec)
        # control: the same refinement on the policy energy alone (α = 0, no goal term)
        runs["energy_only"] = plan_rollout(
            model, paths, goal, PlanSpec(p.start, p.steps, 0.0, langevin)
        )
    out = {}
    for key, y in runs.items():
        valid = path_metrics(y, e.c3_test, e.tau)["valid"]
        out[key] = {"valid": valid, "goal_err": (y[..., -1] - goal).abs().mean(-1).cpu().numpy()}
    return out
