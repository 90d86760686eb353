"""The joint 2-D VAE with the LDEBM prior (official ``synthetic_gaussian.py``, class ``IBEBM``):
MLP encoder q(z|x) = N(μ, σ²) and MLP decoder x̂ = g(z) with MSE reconstruction, the LDEBM prior
on the 2-D latent, trained jointly by nll + kl_w·(zkl + cd) − mi_w·MI + cls_w·CE with k-means
pseudo-labels of the encoder means (issue CPU item 2 in its joint form: does removing the
clustering lower the symbols' NMI with the true modes when the latent is learned too?).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ldebm import objectives as obj
from ldebm.clustering import pseudo_labels, uniform_label_indices
from ldebm.elbo import ldebm_prior_kl, reparameterise
from ldebm.energy import LatentDiffusionEBM
from ldebm.langevin import recovery_langevin
from ldebm.prior import Hooks
from ldebm.schedule import Schedule, make_schedule
from reprokit.torch_utils import check_finite

NO_FREE_BITS = float("-inf")  # the free-bits mask is commented out in the synthetic scripts


class MLPAutoencoder(nn.Module):
    """Encoder Linear–ReLU–Linear → (μ, log σ²) and decoder Linear–ReLU–Linear (official)."""

    def __init__(self, x_dim: int, z_dim: int, hidden: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(x_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.to_mu = nn.Linear(hidden, z_dim)
        self.to_logvar = nn.Linear(hidden, z_dim)
        self.decoder = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, x_dim))

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q(z|x)."""
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)


@dataclass
class JointLearner:
    """The autoencoder, the LDEBM prior on its latent, the schedule and the method config."""

    ae: MLPAutoencoder
    ebm: nn.Module
    sched: Schedule
    mc: object  # configs.MethodConfig
    train_time_s: float = 0.0

    def optimizers(self) -> list[torch.optim.Optimizer]:
        """Separate Adams (official): autoencoder 1e-3, EBM ``mc.lr``."""
        return [
            torch.optim.Adam(self.ae.parameters(), lr=1e-3),
            torch.optim.Adam(self.ebm.parameters(), lr=self.mc.lr),
        ]

    @torch.no_grad()
    def means(self, x: np.ndarray) -> np.ndarray:
        """Encoder means μ(x)."""
        return self.ae.posterior(torch.from_numpy(x))[0].numpy()

    @torch.no_grad()
    def symbols(self, x: np.ndarray) -> np.ndarray:
        """argmax_k f_k(z_0(μ(x)), 0): the symbol of each data point."""
        z = torch.from_numpy(self.means(x))
        t0 = torch.zeros(len(z), dtype=torch.long)
        return self.ebm(obj.z0_input(self.sched, z), t0).argmax(-1).numpy()

    @torch.no_grad()
    def reconstruction_mse(self, x: np.ndarray, shuffle: bool, seed: int) -> float:
        """MSE of g(μ(x)) against x (``shuffle``: μ of another point, the copy-free floor)."""
        mu = torch.from_numpy(self.means(x))
        if shuffle:
            mu = mu[torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))]
        return float(F.mse_loss(self.ae.decoder(mu), torch.from_numpy(x)))


def build(mc, z_dim: int = 2, x_dim: int = 2) -> JointLearner:
    """The untrained joint learner (hidden width ``mc.hidden`` for both the autoencoder and EBM)."""
    ebm = LatentDiffusionEBM(z_dim, mc.hidden, mc.n_classes, mc.n_blocks, mc.T, mc.emb_dim)
    return JointLearner(
        MLPAutoencoder(x_dim, z_dim, mc.hidden), ebm, make_schedule(mc.T, mc.step_size), mc
    )


def joint_loss(lrn: JointLearner, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """Official ``IBEBM.forward`` + ``valid_loss``: MSE + kl_w·(zkl + cd) − mi_w·MI + cls_w·CE,
    kl_w = 1; the posterior sample z is not detached."""
    mc, sched = lrn.mc, lrn.sched
    mu, logvar = lrn.ae.posterior(x)
    z = reparameterise(mu, logvar)
    nll = F.mse_loss(lrn.ae.decoder(z), x)
    pairs = obj.training_pairs(sched, z)
    zkl = ldebm_prior_kl(lrn.ebm, sched, pairs, logvar, NO_FREE_BITS)
    x_hat = recovery_langevin(lrn.ebm, sched, pairs.x_neg.detach(), pairs.t, mc.langevin_steps)
    cd = obj.contrastive_loss(lrn.ebm, sched, pairs.x_pos, x_hat, pairs.t)
    logits = lrn.ebm(obj.z0_input(sched, z), torch.zeros(len(z), dtype=torch.long))
    loss = nll + zkl + cd - mc.mi_weight * obj.mutual_information(logits)
    if labels is not None:
        loss = loss + mc.cls_weight * obj.pseudo_label_ce(logits, labels)
    return loss


def train(
    lrn: JointLearner,
    pool: np.ndarray,
    seed: int,
    opts: list[torch.optim.Optimizer],
    start: int,
    hooks: Hooks,
    save: Callable[[int], None],
) -> None:
    """Iterations ``start … mc.iterations``; k-means of the encoder means every
    ``mc.recluster_every`` iterations (clustering methods). Batches and k-means seeds depend only
    on (seed, iteration), so a resumed run sees the data of an uninterrupted one."""
    import time

    mc, labels, x_pool = lrn.mc, None, torch.from_numpy(pool)
    clustering = mc.cls_weight > 0
    t0 = time.perf_counter()
    for it in hooks.progress(range(start, mc.iterations), desc="joint"):
        rng = np.random.default_rng([seed, it])
        if clustering and (labels is None or it % mc.recluster_every == 0):
            it0 = it - it % mc.recluster_every
            labels = pseudo_labels(
                lrn.means(pool), mc.n_classes, mc.pca_dim, mc.l2_normalize, seed + it0
            )
        if clustering:
            idx = uniform_label_indices(labels, mc.batch_size, rng)
        else:
            idx = rng.integers(0, len(pool), mc.batch_size)
        lab = torch.from_numpy(labels[idx]).long() if clustering else None
        loss = joint_loss(lrn, x_pool[idx], lab)
        for o in opts:
            o.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(lrn.ebm.parameters(), mc.grad_clip)
        for o in opts:
            o.step()
        check_finite(loss.detach(), it + 1)
        lrn.train_time_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        if (it + 1) % mc.log_every == 0:
            hooks.log(it + 1, loss=float(loss.detach()))
        if (it + 1) % mc.ckpt_every == 0 or it + 1 == mc.iterations:
            save(it + 1)
        hooks.boundary(it + 1, lambda i=it + 1: save(i))
