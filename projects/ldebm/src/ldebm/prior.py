"""Prior-only learning on the fixed 2-D target: LDEBM (with or without clustering) and SVEBM-IB.

The latents z are exact target samples (no encoder), so the comparison isolates the paper's
mechanism: learning a multi-modal latent EBM by diffusion recovery likelihood with short
per-level chains versus by short-run Langevin from N(0, I) on the marginal EBM.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ldebm import objectives as obj
from ldebm.clustering import pseudo_labels, uniform_label_indices
from ldebm.energy import LatentDiffusionEBM, LevelSplitEBM, SVEBMEnergy
from ldebm.langevin import progressive_levels, recovery_langevin, short_run_langevin
from ldebm.schedule import Schedule, make_schedule
from reprokit.torch_utils import check_finite

METHODS = ("ldebm", "svebm", "ldebm_noclust", "ldebm_nomi")


@dataclass
class MethodSpec:
    """What a method is: its network, sampler and loss terms (the configs carry the numbers)."""

    diffusion: bool  # recovery likelihood over T levels (LDEBM) vs one marginal EBM (SVEBM-IB)
    clustering: bool  # k-means pseudo-labels + CE + uniform-per-cluster sampler


SPECS = {
    "ldebm": MethodSpec(diffusion=True, clustering=True),
    "ldebm_noclust": MethodSpec(diffusion=True, clustering=False),
    "ldebm_nomi": MethodSpec(diffusion=True, clustering=True),  # IB weight 0 in its config
    "svebm": MethodSpec(diffusion=False, clustering=False),
}


@dataclass
class Learner:
    """A trained prior with what is needed to sample it."""

    method: str
    ebm: nn.Module
    sched: Schedule | None
    n_steps: int  # Langevin steps per level (LDEBM) or per chain (SVEBM)
    step_size: float  # SVEBM step size s (LDEBM's are in sched)
    sample_steps: int = 0  # the same when sampling for evaluation (0: n_steps)
    train_time_s: float = 0.0

    def sample_levels(self, n: int) -> list[torch.Tensor]:
        """Prior samples, last entry, after every level's samples (LDEBM: progressive ancestral
        sampling, [z_{T−1}, …, z_0]); SVEBM-IB: [short-run samples from N(0, I)]."""
        noise, steps = torch.randn(n, 2), self.sample_steps or self.n_steps
        if self.sched is not None:
            return progressive_levels(self.ebm, self.sched, noise, steps)
        return [short_run_langevin(self.ebm, noise, steps, self.step_size)]

    @torch.no_grad()
    def symbols(self, z: torch.Tensor) -> np.ndarray:
        """argmax_k f_k at the class head's training input (z_0 at t = 0 for LDEBM)."""
        if self.sched is None:
            return self.ebm(z).argmax(-1).numpy()
        t0 = torch.zeros(len(z), dtype=torch.long)
        return self.ebm(obj.z0_input(self.sched, z), t0).argmax(-1).numpy()


def build(method: str, mc, dim: int = 2) -> Learner:
    """The untrained learner of ``method`` from a method config ``mc`` (configs.MethodConfig)."""
    if SPECS[method].diffusion:
        net = LevelSplitEBM if mc.split_level0 else LatentDiffusionEBM
        ebm = net(
            dim=dim,
            hidden=mc.hidden,
            n_classes=mc.n_classes,
            n_blocks=mc.n_blocks,
            T=mc.T,
            emb_dim=mc.emb_dim,
            use_sn=mc.spectral_norm,
        )
        sched = make_schedule(mc.T, mc.step_size)
        return Learner(method, ebm, sched, mc.langevin_steps, 0.0, mc.sample_steps)
    ebm = SVEBMEnergy(dim, mc.hidden, mc.n_classes)
    return Learner(method, ebm, None, mc.langevin_steps, mc.step_size, mc.sample_steps)


def ldebm_loss(lrn: Learner, mc, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """cd (recovery likelihood, all levels) − λ_MI·MI + λ_CE·CE for one batch of latents."""
    pairs = obj.training_pairs(lrn.sched, z)
    x_hat = recovery_langevin(lrn.ebm, lrn.sched, pairs.x_neg, pairs.t, lrn.n_steps)
    loss = obj.contrastive_loss(lrn.ebm, lrn.sched, pairs.x_pos, x_hat, pairs.t)
    t0 = torch.zeros(len(z), dtype=torch.long)
    logits = lrn.ebm(obj.z0_input(lrn.sched, z), t0)
    loss = loss - mc.mi_weight * obj.mutual_information(logits)
    if labels is not None:
        loss = loss + mc.cls_weight * obj.pseudo_label_ce(logits, labels)
    return loss


def svebm_step_loss(lrn: Learner, mc, z: torch.Tensor) -> torch.Tensor:
    """SVEBM-IB: negatives by short-run Langevin from N(0, I), then its contrastive + IB loss."""
    z_neg = short_run_langevin(lrn.ebm, torch.randn_like(z), lrn.n_steps, lrn.step_size)
    return obj.svebm_loss(lrn.ebm, z, z_neg, mc.mi_weight)


@dataclass
class Hooks:
    """The unit's logging, progress bar and interruption boundary (from reproduce)."""

    log: Callable[..., None]
    progress: Callable
    boundary: Callable[[int, Callable[[], None]], None]


def train(
    lrn: Learner,
    mc,
    pool: np.ndarray,
    seed: int,
    optimizer: torch.optim.Optimizer,
    start: int,
    hooks: Hooks,
    save: Callable[[int], None],
) -> np.ndarray | None:
    """Iterations ``start … mc.iterations`` of prior learning on the latent ``pool``; returns the
    pseudo-labels of the last re-clustering (None without clustering). Batches and k-means
    seeds depend only on (seed, iteration): a resumed run sees the data of an uninterrupted one."""
    spec = SPECS[lrn.method]
    labels = None
    z_pool = torch.from_numpy(pool)
    t_start = time.perf_counter()
    for it in hooks.progress(range(start, mc.iterations), desc=lrn.method):
        rng = np.random.default_rng([seed, it])
        if spec.clustering and (labels is None or it % mc.recluster_every == 0):
            it0 = it - it % mc.recluster_every
            labels = pseudo_labels(pool, mc.n_classes, mc.pca_dim, mc.l2_normalize, seed + it0)
        if spec.clustering:
            idx = uniform_label_indices(labels, mc.batch_size, rng)
        else:
            idx = rng.integers(0, len(pool), mc.batch_size)
        z = z_pool[idx]
        if spec.diffusion:
            lab = torch.from_numpy(labels[idx]).long() if spec.clustering else None
            loss = ldebm_loss(lrn, mc, z, lab)
        else:
            loss = svebm_step_loss(lrn, mc, z)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(lrn.ebm.parameters(), mc.grad_clip)
        optimizer.step()
        check_finite(loss.detach(), it + 1)
        lrn.train_time_s += time.perf_counter() - t_start
        t_start = time.perf_counter()
        if (it + 1) % mc.log_every == 0:
            hooks.log(it + 1, loss=float(loss.detach()))
        if (it + 1) % mc.ckpt_every == 0 or it + 1 == mc.iterations:
            save(it + 1)
        hooks.boundary(it + 1, lambda i=it + 1: save(i))
    if spec.clustering and labels is None:  # resumed after the last iteration
        it0 = (mc.iterations - 1) - (mc.iterations - 1) % mc.recluster_every
        labels = pseudo_labels(pool, mc.n_classes, mc.pca_dim, mc.l2_normalize, seed + it0)
    return labels
