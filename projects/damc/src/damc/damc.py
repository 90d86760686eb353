"""The learning iteration of the latent EBM, with DAMC or LEBM chains (official train_gen_recon.py).

One iteration, for a batch x (B, ...):
1. z₀ = q_φ̄(z|x) (DAMC, the EMA copy) or z₀ ~ N(0, I) (LEBM, and DAMC's first ``warmup``
   iterations: q_0 = N(0, I) as in the paper's derivation; the official code uses 0);
2. z⁺ = posterior Langevin from z₀ (K⁺ steps, δ⁺);
3. z⁻ = prior Langevin from      [z₀ ; N(0,I)]   (DAMC, ``prior_init="code"``, 2B chains)
                                  q_φ̄(z)          (DAMC, ``prior_init="paper"``, Algorithm 1)
                                  z₀              (DAMC, ``prior_init="posterior"``, anomaly code)
                                  N(0, I)         (LEBM);
4. DAMC only: ``q_updates`` AdamW steps on ½‖ε − ε̂_φ‖² with targets z⁺ (``q_loss="masked"``:
   context dropped with prob p_mask, one mask per iteration as in the code; ``"both"``: the
   conditional plus the unconditional loss on every z⁺, as in the anomaly code); with
   ``prior_branch_data="prior"`` the null-context branch also fits z⁻;
5. G step on Σ_pixels ‖G(z⁺) − x‖² (batch mean; the code omits 1/σ²);
6. E step on mean E(z⁺) − mean E(z⁻) (the MLE gradient of log p_α);
7. every ``ema_every`` iterations φ̄ ← ρφ + (1 − ρ)φ̄;
   every ``lr_decay_every`` iterations lr ← max(0.99 lr, floor).

The chains run on the raw modules; the losses go through ``*_train`` (DDP wrappers under torchrun).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from damc.configs import Config
from damc.diffusion import DiffusionAmortizer, ema_copy, ema_update
from damc.langevin import posterior_chain, prior_chain
from damc.model import LatentEBM

Sampler = Literal["damc", "lebm"]


@dataclass
class Learner:
    """Networks, their training views (DDP or identity), optimisers and the iteration count."""

    sampler: Sampler
    ebm: LatentEBM
    G_train: nn.Module
    E_train: nn.Module
    opt_G: torch.optim.Optimizer
    opt_E: torch.optim.Optimizer
    Q: DiffusionAmortizer | None = None
    Q_train: nn.Module | None = None
    Q_ema: DiffusionAmortizer | None = None
    opt_Q: torch.optim.Optimizer | None = None
    iteration: int = 0
    train_time_s: float = 0.0  # wall time of the learning loop, summed over resumes

    def modules(self) -> dict[str, nn.Module]:
        out: dict[str, nn.Module] = {"G": self.ebm.G, "E": self.ebm.E}
        if self.Q is not None and self.Q_ema is not None:
            out |= {"Q": self.Q, "Q_ema": self.Q_ema}
        return out

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        out = {"G": self.opt_G, "E": self.opt_E}
        if self.opt_Q is not None:
            out["Q"] = self.opt_Q
        return out


def build_learner(
    cfg: Config,
    sampler: Sampler,
    G: nn.Module,
    E: nn.Module,
    Q: DiffusionAmortizer | None,
    wrap=lambda m: m,
) -> Learner:
    """Optimisers as in the official code: Adam(β1, 0.999) for G, E; AdamW for q_φ."""
    betas = (cfg.optim.beta1, 0.999)
    ebm = LatentEBM(G, E, cfg.langevin.sigma)
    learner = Learner(
        sampler=sampler,
        ebm=ebm,
        G_train=wrap(G),
        E_train=wrap(E),
        opt_G=torch.optim.Adam(G.parameters(), lr=cfg.optim.g_lr, betas=betas),
        opt_E=torch.optim.Adam(E.parameters(), lr=cfg.optim.e_lr, betas=betas),
    )
    if sampler == "damc":
        if Q is None:
            raise ValueError("build_learner: sampler 'damc' needs a DiffusionAmortizer")
        learner.Q, learner.Q_train, learner.Q_ema = Q, wrap(Q), ema_copy(Q)
        learner.opt_Q = torch.optim.AdamW(
            Q.parameters(), lr=cfg.damc.q_lr, betas=betas, weight_decay=cfg.damc.q_weight_decay
        )
    return learner


def _noise_start(learner: Learner, warmup: int) -> bool:
    return learner.sampler == "lebm" or learner.iteration < warmup


def init_posterior(
    learner: Learner, x: torch.Tensor, use_ema: bool = True, warmup: int = 0
) -> torch.Tensor:
    """Start of the posterior chains: q_φ̄(z|x) for DAMC (N(0, I) during the first ``warmup``
    iterations), N(0, I) for LEBM; -> (B, nz)."""
    if not _noise_start(learner, warmup):
        Q = learner.Q_ema if use_ema else learner.Q
        return Q.sample(x)
    return torch.randn(len(x), learner.ebm.nz, device=x.device)


def init_prior(
    learner: Learner, z0: torch.Tensor, prior_init: str, warmup: int = 0
) -> torch.Tensor:
    """Start of the prior chains (see module docstring, step 3)."""
    if learner.sampler == "lebm" or (prior_init == "paper" and _noise_start(learner, warmup)):
        return torch.randn_like(z0)
    if prior_init == "code":
        return torch.cat([z0, torch.randn_like(z0)], dim=0)  # (2B, nz)
    if prior_init == "posterior":
        return z0.clone()
    return learner.Q_ema.sample(n=len(z0))


def generator_loss(G: nn.Module, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Batch mean of Σ_pixels ‖G(z) − x‖² (official g_loss, no 1/σ²)."""
    return (G(z) - x).pow(2).flatten(1).sum(dim=1).mean()


def ebm_loss(E: nn.Module, z_pos: torch.Tensor, z_neg: torch.Tensor) -> torch.Tensor:
    """mean E(z⁺) − mean E(z⁻): its gradient is −∇_α log p_α estimated by MCMC (one forward)."""
    e = E(torch.cat([z_pos, z_neg], dim=0))
    return e[: len(z_pos)].mean() - e[len(z_pos) :].mean()


def context_mask(b: int, p_mask: float, device: torch.device) -> torch.Tensor:
    """1 keeps encoder(x), 0 swaps in the null context (prob. p_mask); drawn once per iteration
    and shared by its q_φ steps, as in the official code: (b, 1)."""
    return (torch.rand(b, 1, device=device) >= p_mask).float()


def amortizer_loss(
    Q_train: nn.Module,
    x: torch.Tensor,
    z_pos: torch.Tensor,
    z_neg: torch.Tensor,
    mask: torch.Tensor,
    prior_branch_data: str,
    q_loss: str = "masked",
) -> torch.Tensor:
    """Mean ε-loss on z⁺ with context encoder(x) (null where mask = 0); optionally z⁻ (null).
    ``q_loss="both"``: conditional loss + unconditional loss on every z⁺ (mask ignored)."""
    if q_loss == "both":
        keep = torch.ones_like(mask)
        return Q_train(z_pos, x, keep).mean() + Q_train(z_pos, x, 1.0 - keep).mean()
    z, xs = z_pos, x
    if prior_branch_data == "prior":
        z = torch.cat([z_pos, z_neg], dim=0)
        xs = torch.cat([x, x.new_zeros(len(z_neg), *x.shape[1:])], dim=0)
        mask = torch.cat([mask, mask.new_zeros(len(z_neg), 1)], dim=0)
    return Q_train(z, xs, mask).mean()


def _clip_step(opt: torch.optim.Optimizer, max_norm: float) -> None:
    params = [p for g in opt.param_groups for p in g["params"] if p.grad is not None]
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    opt.step()


def train_step(learner: Learner, x: torch.Tensor, cfg: Config) -> dict[str, float]:
    """One learning iteration (module docstring); returns the losses as floats."""
    lc, dc = cfg.langevin, cfg.damc
    ebm = learner.ebm
    for m in learner.modules().values():
        m.eval()
    z0 = init_posterior(learner, x, warmup=dc.warmup)
    z_pos = posterior_chain(ebm, z0, x, lc.post_steps, lc.post_step_size, lc.with_noise)
    z_neg = init_prior(learner, z0, dc.prior_init, dc.warmup)
    z_neg = prior_chain(ebm, z_neg, lc.prior_steps, lc.prior_step_size, lc.with_noise)
    out: dict[str, float] = {}

    if learner.sampler == "damc":
        learner.Q.train()
        mask = context_mask(len(x), dc.p_mask, x.device)
        for _ in range(dc.q_updates):
            learner.opt_Q.zero_grad(set_to_none=True)
            q_loss = amortizer_loss(
                learner.Q_train, x, z_pos, z_neg, mask, dc.prior_branch_data, dc.q_loss
            )
            q_loss.backward()
            _clip_step(learner.opt_Q, cfg.optim.max_grad_norm)
        out["q_loss"] = float(q_loss.detach())

    ebm.G.train()
    learner.opt_G.zero_grad(set_to_none=True)
    g_loss = generator_loss(learner.G_train, z_pos, x)
    g_loss.backward()
    _clip_step(learner.opt_G, cfg.optim.max_grad_norm)

    ebm.E.train()
    learner.opt_E.zero_grad(set_to_none=True)
    e_loss = ebm_loss(learner.E_train, z_pos, z_neg)
    e_loss.backward()
    _clip_step(learner.opt_E, cfg.optim.max_grad_norm)

    learner.iteration += 1
    if learner.iteration % cfg.optim.lr_decay_every == 0:
        for opt in learner.optimizers().values():
            for group in opt.param_groups:
                group["lr"] = max(group["lr"] * cfg.optim.lr_decay, cfg.optim.lr_floor)
    if learner.sampler == "damc" and learner.iteration % dc.ema_every == 0:
        ema_update(learner.Q_ema, learner.Q, dc.ema_rho)
    if learner.sampler == "damc" and learner.iteration == dc.warmup:
        learner.Q_ema.load_state_dict(learner.Q.state_dict())  # q_φ̄ starts as the fitted q_φ
    out |= {"g_loss": float(g_loss.detach()), "e_loss": float(e_loss.detach())}
    out["z_pos_norm"] = float(z_pos.norm(dim=1).mean())
    out["z_neg_norm"] = float(z_neg.norm(dim=1).mean())
    return out
