"""Training loops of the two ensembles (resumable, one checkpoint folder per unit).

* ``train_energy``: LanMDP's MLE (``mle``) for every (seed, L) member at once. Each iteration
  draws a batch of windows per member, n short-run prior samples per window (``langevin``),
  weighs them by the transition likelihood of the observed next state and takes one Adam step
  on the contrastive loss. The true actions never enter the loss (only the logged
  posterior diagnostic reads them).
* ``train_regression``: the MSE regression reference on the true actions a*.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lanmdp.langevin import LangevinSpec, prior_sample
from lanmdp.mle import (
    clip_per_member,
    contrastive_loss,
    effective_sample_size,
    importance_weights,
    posterior_error_ratio,
    transition_log_lik,
)
from lanmdp.model import EnergyPolicy, RegressionPolicy
from reprokit.torch_utils import Checkpointer, capture_rng_state, check_finite

Boundary = Callable[[str, Callable[[], object] | None], None]
Log = Callable[..., None]


@dataclass
class Windows:
    """Training transitions of every member: ctx (M, W, 2L_max), y_t and y_{t+1} (M, W); the
    true actions a* (M, W) are held for diagnostics and the references only."""

    ctx: torch.Tensor
    y: torch.Tensor
    y_next: torch.Tensor
    a_true: torch.Tensor

    def batch(self, size: int) -> Windows:
        """``size`` windows per member, drawn with replacement."""
        M, W = self.y.shape
        idx = torch.randint(W, (M, size), device=self.y.device)
        pick = lambda v: torch.gather(v, 1, idx)  # noqa: E731
        ctx = torch.gather(self.ctx, 1, idx[..., None].expand(-1, -1, self.ctx.shape[-1]))
        return Windows(ctx, pick(self.y), pick(self.y_next), pick(self.a_true))


@dataclass(frozen=True)
class EnergyTraining:
    """Hyperparameters of LanMDP's learning loop (see ``configs.TrainConfig`` for their help)."""

    iterations: int
    batch_size: int
    n_prior: int
    langevin_steps: int
    sigma: float
    log_p_floor: float
    f_sq: float
    grad_penalty: float
    lr: float
    decay_from: float
    clip: float
    ckpt_every: int
    log_every: int


def learning_rate(tc: EnergyTraining, it: int) -> float:
    """Constant ``lr`` until ``decay_from``·iterations, then linearly down to 0 at the end."""
    start = tc.decay_from * tc.iterations
    if it < start:
        return tc.lr
    return tc.lr * (tc.iterations - it) / max(tc.iterations - start, 1.0)


def _samples(model: EnergyPolicy, b: Windows, n: int, steps: int, spec: LangevinSpec):
    """n prior samples per window (M, B, n) and the energy f(ctx, ·) bound to those windows."""
    M, B = b.y.shape
    energy = model.bind(b.ctx[:, :, None, :].expand(M, B, n, -1).reshape(M, B * n, -1))
    a = prior_sample(energy.grad, (M, B * n), steps, spec, b.y.device).reshape(M, B, n)

    def f(a: torch.Tensor) -> torch.Tensor:
        return energy(a.reshape(M, B * n)).reshape(M, B, n)

    return a, f


def mle_step(model: EnergyPolicy, b: Windows, tc: EnergyTraining, spec: LangevinSpec):
    """The loss and posterior diagnostics of one batch (the loss's graph is kept): the
    posterior ratio per member, the fraction of log-p above the floor, the mean ESS / n."""
    a, f = _samples(model, b, tc.n_prior, tc.langevin_steps, spec)
    log_lik = transition_log_lik(b.y_next[..., None], b.y[..., None], a, tc.sigma, tc.log_p_floor)
    w = importance_weights(log_lik)
    loss = contrastive_loss(f, a, w, tc.f_sq, tc.grad_penalty)
    above_floor = (log_lik > tc.log_p_floor).float().mean()
    ess = effective_sample_size(w).mean() / tc.n_prior
    return loss, posterior_error_ratio(a, w, b.a_true), above_floor, ess


def train_energy(
    model: EnergyPolicy,
    data: Windows,
    tc: EnergyTraining,
    spec: LangevinSpec,
    folder: Path,
    config: dict,
    log: Log,
    boundary: Boundary,
    progress: Callable,
) -> dict[str, np.ndarray | float]:
    """Train every member for ``tc.iterations`` (resuming from ``folder``): the loss curve and,
    per member, the posterior-to-prior action-error ratio averaged over all iterations (the
    learning signal the importance weights carried)."""
    opt = torch.optim.Adam(model.parameters(), lr=tc.lr)
    ckpt = Checkpointer(folder, every=tc.ckpt_every, config=config)
    start = ckpt.resume(model, opt)
    prev = ckpt.state or {}
    curve = list(prev.get("curve", []))
    train_s = float(prev.get("train_s", 0.0))
    ratio_sum = prev.get("ratio_sum", torch.zeros(len(model.lengths), device=data.y.device))

    def state(step: int) -> dict:
        return {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "rng": capture_rng_state(),
            "curve": curve,
            "train_s": train_s,
            "ratio_sum": ratio_sum,
        }

    for it in progress(range(start, tc.iterations), desc="LanMDP MLE", initial=start):
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = learning_rate(tc, it)
        loss, ratio, above, ess = mle_step(model, data.batch(tc.batch_size), tc, spec)
        check_finite(loss, it)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        clip_per_member(list(model.parameters()), tc.clip)
        opt.step()
        train_s += time.perf_counter() - t0
        ratio_sum = ratio_sum + ratio.detach()
        if (it + 1) % tc.log_every == 0:
            curve.append([it + 1, loss.item()])
            diag = {"post_ratio": float(ratio.mean()), "ess": float(ess)}
            log(it + 1, loss=loss.item(), above_floor=float(above), **diag)
        if ckpt.due(it + 1) or it + 1 == tc.iterations:
            ckpt.save(it + 1, state(it + 1))
        boundary(f"at LanMDP iteration {it + 1}", lambda s=it + 1: ckpt.save(s, state(s)))
    return {
        "curve": np.array(curve, dtype=np.float64).reshape(-1, 2),
        "train_s": train_s,
        "post_ratio": (ratio_sum / max(tc.iterations, 1)).cpu().numpy(),
    }


def train_regression(
    model: RegressionPolicy,
    data: Windows,
    tc: EnergyTraining,
    progress: Callable,
    boundary: Boundary,
) -> float:
    """MSE regression of the true actions a* on the histories, with LanMDP's steps, batch, lr
    schedule and clipping; the final batch MSE. A stop request ends it at a step boundary
    (no checkpoint: the unit is short and reruns from the start)."""
    opt = torch.optim.Adam(model.parameters(), lr=tc.lr)
    loss = torch.tensor(0.0)
    for it in progress(range(tc.iterations), desc="regression"):
        for group in opt.param_groups:
            group["lr"] = learning_rate(tc, it)
        b = data.batch(tc.batch_size)
        loss = ((model(b.ctx) - b.a_true) ** 2).mean(dim=1).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        clip_per_member(list(model.parameters()), tc.clip)
        opt.step()
        boundary(f"at regression iteration {it + 1}", None)
    return loss.item() / data.y.shape[0]
