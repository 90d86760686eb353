"""Test-time planning and rollouts in the evaluation environment.

LPT: z0 chains start from the persistent posterior of the planning reference trajectory
(``planning_reference``: the best training trajectory, as the official ``z_best_idx`` meant to do
-- it indexes the buffer with a batch-local argmax, we use the dataset-level one -- or the best one
among those that start as evaluation episodes do), run ``plan_langevin`` for y* (ω = 1 or ω > 1),
and z = U(z0) stays fixed for the whole episode. DT is conditioned on y* at every step
(R_t ≡ y*), BC on nothing.

``rollout`` steps B episodes together and feeds the model one token at a time through
``Transformer.step`` (per-layer key/value caches of the last K tokens), which equals a full
banded forward over the whole history; ``rollout(..., cached=False)`` is the naive version that
recomputes that full forward at every step (kept for the equivalence test and the speed ratio).
Action convention as in DT: the prediction at s_t is a_t (no off-by-one). Continuous actions
play the Gaussian mean; discrete ones (Connect Four) a legal action sampled from π or the most
likely legal one.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from lpt.connect4 import Connect4Batch, Connect4Spec
from lpt.data import Trajectories
from lpt.gym_mujoco import MujocoBatch, MujocoSpec
from lpt.langevin import LatentBuffer, plan_langevin
from lpt.maze2d import MazeBatch, MazeSpec
from lpt.model import LPT, SequencePolicy

Spec = MazeSpec | MujocoSpec | Connect4Spec


def make_envs(spec: Spec, seeds: list[int]) -> MazeBatch | MujocoBatch | Connect4Batch:
    """B evaluation episodes of the task described by ``spec``, stepped in lock-step."""
    if isinstance(spec, MujocoSpec):
        return MujocoBatch(spec, seeds)
    if isinstance(spec, Connect4Spec):
        return Connect4Batch(spec, seeds)
    return MazeBatch(spec, seeds)


def planning_reference(returns: np.ndarray, eligible: np.ndarray) -> int:
    """The trajectory that sets y* and starts the planning chains: the best return among the
    ``eligible`` ones (all: the official rule; Maze2D ``matched``: those that start outside the
    goal radius, ``maze2d.starts_like_evaluation``)."""
    if not eligible.any():
        raise ValueError("no trajectory is eligible as the planning reference")
    candidates = np.flatnonzero(eligible)
    return int(candidates[np.argmax(returns[candidates])])


@torch.no_grad()
def plan(
    model: LPT,
    buffer: LatentBuffer,
    data: Trajectories,
    y_star: float,
    B: int,
    n_steps: int,
    s: float,
    omega: float,
    sigma_y2: float,
    seed: int,
    start: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """B plans for the raw target return y_star, the chains started at trajectory ``start``'s
    posterior -> (z (B, n_latent, h), ŷ (B,) raw returns)."""
    z0 = buffer.z0[start].expand(B, -1, -1).clone()
    target = torch.full((B,), y_star / data.scale, device=z0.device)
    g = torch.Generator().manual_seed(seed)
    z0 = plan_langevin(model, z0, target, n_steps, s, omega, sigma_y2, generator=g)
    z = model.prior(z0)
    return z, model.predict_return(z) * data.scale


@torch.no_grad()
def return_fit(model: LPT, buffer: LatentBuffer, data: Trajectories) -> float:
    """Pearson correlation of r_γ(U(z0_i)) with y_i over the persistent chains (training fit)."""
    model.eval()
    y_hat = torch.cat([model.predict_return(model.prior(z)) for z in buffer.z0.split(256)])
    return float(np.corrcoef(y_hat.cpu().numpy(), data.returns)[0, 1])


@torch.no_grad()
def action_fit(
    model: SequencePolicy, buffer: LatentBuffer | None, data: Trajectories, idx: np.ndarray
) -> float:
    """Teacher-forced action loss of the learning step on data trajectories ``idx`` (eval mode).

    Masked per-dimension MSE (or mean CE) as in training; LPT reads its persistent posterior
    chains z = U(z0_i), DT is conditioned on each trajectory's own return, BC on nothing.
    """
    model.eval()
    batch = data.batch(idx, next(model.parameters()).device)
    losses = model(batch, buffer.get(batch["idx"])) if isinstance(model, LPT) else model(batch)
    return float(losses[model.action_loss_name])


def mean_action_fit(data: Trajectories, idx: np.ndarray) -> float:
    """The same loss for a trivial predictor that ignores the history: the data's mean action
    (continuous) or the data's marginal action frequencies (discrete)."""
    A_all = np.concatenate(data.actions).astype(np.float64)
    batch = data.batch(idx)
    A, M = batch["actions"].double().numpy(), batch["mask"].double().numpy()
    if data.discrete:
        logp = np.log(np.clip(A_all.mean(0), 1e-12, None))
        return float((-(A * logp).sum(-1) * M).sum() / M.sum())
    err = ((A - A_all.mean(0)) ** 2).sum(-1)
    return float((err * M).sum() / (M.sum() * A.shape[-1]))


@torch.no_grad()
def policy_shift(
    model: SequencePolicy, data: Trajectories, idx: np.ndarray, cond_lo: dict, cond_hi: dict
) -> float:
    """How much the conditioning moves the policy on data trajectories ``idx`` (teacher forcing).

    Mean over unmasked steps of the distance between π(·|…, cond_lo) and π(·|…, cond_hi):
    total variation ½‖p_lo − p_hi‖₁ for categorical actions, ‖â_lo − â_hi‖₂ for Gaussian means.
    ``cond_*`` are ``{"z": (B, n_latent, h)}`` (LPT) or ``{"y": (B,)}`` (DT).
    """
    model.eval()
    batch = data.batch(idx, next(model.parameters()).device)
    S, A, M = batch["states"], batch["actions"], batch["mask"]
    lo, hi = (model.predict_actions(S, A, **c) for c in (cond_lo, cond_hi))
    if model.discrete:
        dist = 0.5 * (lo.softmax(-1) - hi.softmax(-1)).abs().sum(-1)
    else:
        dist = (lo - hi).norm(dim=-1)
    return float((dist * M).sum() / M.sum())


@torch.no_grad()
def rollout(
    model: SequencePolicy,
    spec: Spec,
    data: Trajectories,
    env_seeds: list[int],
    z: torch.Tensor | None = None,
    y_star: float | None = None,
    cached: bool = True,
    horizon: int | None = None,
    decode_seed: int | None = None,
) -> tuple[np.ndarray, float]:
    """Run len(env_seeds) episodes -> (returns (B,), env steps per second).

    Discrete actions are sampled from π (seeded by ``decode_seed``, as DT's Atari evaluation
    does) or, when it is None, the most likely legal action is played.
    """
    model.eval()
    g = torch.Generator().manual_seed(decode_seed) if decode_seed is not None else None
    device = next(model.parameters()).device
    envs = make_envs(spec, env_seeds)
    legal_mask = getattr(envs, "legal_mask", None)  # discrete games: only legal moves
    B, H = len(env_seeds), horizon or spec.horizon
    y = torch.full((B,), y_star / data.scale, device=device) if y_star is not None else None
    obs = envs.reset()
    R = np.zeros(B)
    states, actions = [], []
    cache = None
    t0 = time.perf_counter()
    for t in range(H):
        s_t = torch.from_numpy(data.normalize(obs)).to(device)[:, None]  # (B, 1, obs)
        if cached:
            pre = model.pre_tokens(s_t, y)  # list of (B, 1, h)
            if cache is None:
                cache = model.transformer.empty_cache(pre[0])
            for tok in pre:
                x, cache = model.transformer.step(model.embed_ln(tok), z, cache)
            pred = model.head(x[:, 0])
        else:
            states.append(s_t)
            S = torch.cat(states, 1)
            A = torch.cat([*actions, torch.zeros(B, 1, data.act_dim, device=device)], 1)
            pred = model.predict_actions(S, A, y, z)[:, -1]
        legal = torch.from_numpy(legal_mask()).to(device) if legal_mask is not None else None
        a_t = model.decide(pred, legal, g)
        obs, r = envs.step(a_t.cpu().numpy().astype(np.float64))
        R += r
        if cached and t < H - 1:
            tok = model.embed_ln(model.embed_action(a_t[:, None]))
            _, cache = model.transformer.step(tok, z, cache)
        elif not cached:
            actions.append(a_t[:, None])
    return R, B * H / (time.perf_counter() - t0)
