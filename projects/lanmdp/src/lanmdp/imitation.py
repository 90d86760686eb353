"""The MuJoCo experiment: state-only imitation on Reacher-v5, LanMDP vs BCO at equal interaction.

Per seed: expert demonstrations (states only enter learning), ``random_episodes`` of
random-action interaction, then ``rounds`` rounds of (fit the interaction model on the buffer,
train the policy, add ``episodes_per_round`` rollouts of the current policy). LanMDP's
interaction model is the transition p_β, BCO's the inverse dynamics; both see the same number of
real transitions. Every policy is evaluated on the same ``eval_episodes`` targets.
Each function returns ``{metric name: value}`` of one seed (names as in ``imitation_claims``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lanmdp.bco import BCO
from lanmdp.configs import ImitationConfig
from lanmdp.dynamics import TransitionModel
from lanmdp.latent_policy import ChainSpec, MLESpec, StateActionEnergy, act, mle_loss
from lanmdp.mle import posterior_error_ratio
from lanmdp.reacher import (
    Episodes,
    Policy,
    Transitions,
    random_policy,
    rollout,
    scripted_expert,
    zero_policy,
)
from lanmdp.regressor import Regressor
from reprokit.lifecycle import boundary

Progress = Callable[..., object]
S, A = 10, 2  # Reacher-v5 state and action dimensions


def env_seed(seed: int, what: str, r: int = 0) -> int:
    """Reset seeds of the seed's episode batches (the same in every unit)."""
    return (
        100_000 * seed
        + {"demos": 1, "random": 2, "heldout": 3, "eval": 4, "round": 10}[what] * 1000
        + r
    )


@dataclass
class Task:
    """One seed's demonstrations and its random-action interaction (shared by both learners)."""

    demos: Episodes
    random: Transitions
    heldout_demos: Transitions  # further expert transitions with actions: the models' test set


def draw_task(cfg: ImitationConfig, seed: int) -> Task:
    t = cfg.task
    expert = scripted_expert(t.kp, t.kd)
    rng = np.random.default_rng(seed)
    return Task(
        demos=rollout(expert, t.demos, env_seed(seed, "demos")),
        random=rollout(
            random_policy(rng), t.random_episodes, env_seed(seed, "random")
        ).transitions(),
        heldout_demos=rollout(expert, t.demos, env_seed(seed, "heldout")).transitions(),
    )


def evaluate(policy: Policy, cfg: ImitationConfig, seed: int) -> float:
    """Mean return over the seed's evaluation episodes."""
    return float(rollout(policy, cfg.task.eval_episodes, env_seed(seed, "eval")).returns.mean())


def references(cfg: ImitationConfig, seed: int) -> dict[str, float]:
    """Expert (positive control), random and zero-torque returns, and BC on the expert's *true*
    actions (the demonstrations carry the task for a learner that sees actions)."""
    task = draw_task(cfg, seed)
    demos = task.demos.transitions()
    p = cfg.policy
    bc = Regressor(S, A, p.hidden, p.layers)
    bc.fit(demos.s, demos.a, p.iterations * cfg.task.rounds, p.batch_size, p.lr)
    bc_act = lambda s: bc(torch.as_tensor(s, dtype=torch.float32)).clamp(-1, 1).detach().numpy()  # noqa: E731
    rng = np.random.default_rng(seed + 1)
    return {
        "return/expert": evaluate(scripted_expert(cfg.task.kp, cfg.task.kd), cfg, seed),
        "return/random": evaluate(random_policy(rng), cfg, seed),
        "return/zero": evaluate(zero_policy, cfg, seed),
        "return/bc_actions": evaluate(bc_act, cfg, seed),
        "demo_return/expert": float(task.demos.returns.mean()),
    }


def _collect(buffer: Transitions, policy: Policy, cfg: ImitationConfig, seed: int, r: int):
    """The buffer after one collection of the current policy's rollouts (FIFO)."""
    if cfg.task.episodes_per_round == 0:
        return buffer
    new = rollout(policy, cfg.task.episodes_per_round, env_seed(seed, "round", r)).transitions()
    return (buffer + new).last(cfg.task.buffer)


def _specs(cfg: ImitationConfig, uniform: bool) -> tuple[MLESpec, ChainSpec]:
    p = cfg.policy
    mle = MLESpec(p.n_prior, p.sigma, p.f_sq, p.grad_penalty, uniform_weights=uniform)
    return mle, ChainSpec(p.langevin_steps, p.noise, p.grad_clamp, p.eta_max, p.eta_min)


def lanmdp(cfg: ImitationConfig, seed: int, uniform: bool, progress: Progress) -> dict[str, float]:
    """LanMDP's rounds: p_β by MSE on the buffer, the policy by MLE on the demonstrations'
    (s, s') with latent actions, rollouts by prior sampling. The expert's actions are read only
    for the posterior diagnostic."""
    task, d, p = draw_task(cfg, seed), cfg.dynamics, cfg.policy
    demos = task.demos.transitions()
    s_all, s_next_all, a_true = (torch.as_tensor(v) for v in (demos.s, demos.s_next, demos.a))
    dyn = TransitionModel(S, A, d.hidden, d.layers)
    energy = StateActionEnergy(s_all.mean(0), s_all.std(0) + 1e-3, A, p.hidden, p.layers)
    opt = torch.optim.AdamW(energy.parameters(), lr=p.lr)
    mle, chain = _specs(cfg, uniform)

    def policy(s: np.ndarray) -> np.ndarray:
        s_t = torch.as_tensor(s, dtype=torch.float32)
        return act(energy, s_t, p.candidates, chain, p.act_noise).numpy()

    buffer, ess, ratio = task.random, [], []
    for r in progress(range(cfg.task.rounds), desc="LanMDP" + (" (uniform w)" if uniform else "")):
        dyn.fit(buffer, d.first_steps if r == 0 else d.round_steps, d.batch_size, d.lr)
        ess, ratio = [], []
        for _ in range(p.iterations):
            idx = torch.randint(len(s_all), (p.batch_size,))
            loss, diag = mle_loss(energy, dyn, s_all[idx], s_next_all[idx], mle, chain)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(energy.parameters(), p.clip)
            opt.step()
            ess.append(float(diag["ess"].mean()) / p.n_prior)
            ratio.append(
                float(posterior_error_ratio(diag["a"][None], diag["w"][None], a_true[idx][None]))
            )
        if r < cfg.task.rounds - 1:
            buffer = _collect(buffer, policy, cfg, seed, r)
        boundary(f"after LanMDP round {r + 1} (the unit restarts on rerun)")
    name = "lanmdp_uniform" if uniform else "lanmdp"
    out = {f"return/{name}": evaluate(policy, cfg, seed)}
    if not uniform:
        out |= {
            "dyn_err/heldout_demos": dyn.standardised_error(task.heldout_demos),
            "ess_frac/lanmdp": float(np.mean(ess)),
            "post_ratio/lanmdp": float(np.mean(ratio)),
        }
    return out


def bco(cfg: ImitationConfig, seed: int, progress: Progress) -> dict[str, float]:
    """BCO's rounds on the same budget: inverse model on the buffer, relabel, clone, collect."""
    task, d, p = draw_task(cfg, seed), cfg.dynamics, cfg.policy
    demos = task.demos.transitions()
    model = BCO(S, A, (d.hidden, d.layers), (p.hidden, p.layers))
    buffer = task.random
    for r in progress(range(cfg.task.rounds), desc="BCO"):
        model.fit_inverse(buffer, d.first_steps if r == 0 else d.round_steps, d.batch_size, d.lr)
        model.clone(demos, p.iterations, p.batch_size, p.lr)
        if r < cfg.task.rounds - 1:
            buffer = _collect(buffer, model.act, cfg, seed, r)
        boundary(f"after BCO round {r + 1} (the unit restarts on rerun)")
    zero_err = float(np.abs(task.heldout_demos.a).mean())
    return {
        "return/bco": evaluate(model.act, cfg, seed),
        "inv_ratio/bco": model.inverse_error(task.heldout_demos) / zero_err,
    }
