"""Learning the text VAEs: LDEBM's joint objective (official ``valid_loss``) and the
Gaussian-prior VAE's ELBO, with per-epoch k-means pseudo-labels and the uniform-per-cluster
sampler; separate learning rates and gradient clips for the EBM.

LDEBM (paper eq. 10 + §3.3):  nll + kl_w·(zkl + cd) − mi_w·MI(y; z_0) + cls_w·CE, where zkl is
``elbo.ldebm_prior_kl`` (encoder only), cd the recovery-likelihood loss of
``objectives.contrastive_loss`` (EBM only) and MI / CE act through the class head at t = 0 on
both. The posterior sample z is not detached: the prior terms shape the encoder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ldebm import objectives as obj
from ldebm.clustering import pseudo_labels, uniform_label_indices
from ldebm.elbo import gaussian_kl, ldebm_prior_kl, reparameterise
from ldebm.energy import LatentDiffusionEBM, LevelSplitEBM
from ldebm.langevin import recovery_langevin
from ldebm.schedule import Schedule, make_schedule
from ldebm.text_configs import TextModelConfig
from ldebm.text_vae import TextVAE
from reprokit.torch_utils import check_finite


@dataclass
class TextLearner:
    """A text VAE with its prior: ``ebm``/``sched`` for LDEBM, None for the Gaussian prior."""

    vae: TextVAE
    ebm: nn.Module | None
    sched: Schedule | None
    mc: TextModelConfig

    def optimizer(self) -> torch.optim.Optimizer:
        """One Adam with the EBM as its own parameter group (official: lr 1e-3 / 1e-4)."""
        groups = [{"params": list(self.vae.parameters()), "lr": self.mc.lr}]
        if self.ebm is not None:
            groups.append({"params": list(self.ebm.parameters()), "lr": self.mc.ebm_lr})
        return torch.optim.Adam(groups)

    def modules(self) -> nn.ModuleDict:
        """Everything to checkpoint."""
        return nn.ModuleDict({"vae": self.vae, **({"ebm": self.ebm} if self.ebm else {})})

    @torch.no_grad()
    def means(self, x: torch.Tensor, batch: int = 512) -> np.ndarray:
        """Posterior means μ(x) of every sentence (dropout off)."""
        self.vae.eval()
        mu = torch.cat([self.vae.posterior(x[i : i + batch])[0] for i in range(0, len(x), batch)])
        self.vae.train()
        return mu.numpy()

    @torch.no_grad()
    def symbols(self, mu: np.ndarray) -> np.ndarray:
        """argmax_k f_k(z_0, 0) at the class head's training input z_0 = q(μ, 0)·a_prev[1]."""
        z = torch.from_numpy(mu)
        t0 = torch.zeros(len(z), dtype=torch.long)
        return self.ebm(obj.z0_input(self.sched, z), t0).argmax(-1).numpy()


def build(method: str, mc: TextModelConfig, vocab: int) -> TextLearner:
    """The untrained text learner of ``method`` (``ldebm`` or ``vae``)."""
    vae = TextVAE(vocab, mc.emb, mc.hidden, mc.latent, mc.dropout)
    if method == "vae":
        return TextLearner(vae, None, None, mc)
    net = LevelSplitEBM if mc.split_level0 else LatentDiffusionEBM
    ebm = net(
        dim=mc.latent,
        hidden=mc.ebm_hidden,
        n_classes=mc.n_classes,
        n_blocks=mc.n_blocks,
        T=mc.T,
        emb_dim=mc.ebm_hidden,
    )
    return TextLearner(vae, ebm, make_schedule(mc.T, mc.step_size), mc)


def ldebm_text_loss(lrn: TextLearner, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """nll + kl_w·(zkl + cd) − mi_w·MI + cls_w·CE for one batch (official ``valid_loss``)."""
    mc, sched = lrn.mc, lrn.sched
    mu, logvar = lrn.vae.posterior(x)
    z = reparameterise(mu, logvar)
    nll = lrn.vae.reconstruction(x, z)[0].mean()
    pairs = obj.training_pairs(sched, z)
    x_hat = recovery_langevin(lrn.ebm, sched, pairs.x_neg.detach(), pairs.t, mc.langevin_steps)
    cd = obj.contrastive_loss(lrn.ebm, sched, pairs.x_pos, x_hat, pairs.t)
    zkl = ldebm_prior_kl(lrn.ebm, sched, pairs, logvar, mc.free_bits)
    logits = lrn.ebm(obj.z0_input(sched, z), torch.zeros(len(z), dtype=torch.long))
    mi = obj.mutual_information(logits)
    ce = obj.pseudo_label_ce(logits, labels)
    return nll + mc.kl_weight * (zkl + cd) - mc.mi_weight * mi + mc.cls_weight * ce


def vae_loss(lrn: TextLearner, x: torch.Tensor) -> torch.Tensor:
    """Gaussian-prior VAE: nll + kl_w·KL(q ‖ N(0, I)) with the same free bits."""
    mu, logvar = lrn.vae.posterior(x)
    nll = lrn.vae.reconstruction(x, reparameterise(mu, logvar))[0].mean()
    return nll + lrn.mc.kl_weight * gaussian_kl(mu, logvar, lrn.mc.free_bits)


@dataclass
class TextHooks:
    """The unit's logging, progress bar and interruption boundary (from the experiment)."""

    log: Callable[..., None]
    progress: Callable
    boundary: Callable[[int, Callable[[], None]], None]


def epoch_order(lrn: TextLearner, x: torch.Tensor, seed: int, epoch: int) -> tuple:
    """(indices of the epoch's batches, pseudo-labels or None): LDEBM re-clusters its posterior
    means (PCA-whitened, L2-normalised) and draws uniformly per cluster; the VAE permutes."""
    rng = np.random.default_rng([seed, epoch])
    if lrn.ebm is None:
        return rng.permutation(len(x)), None
    mc = lrn.mc
    labels = pseudo_labels(lrn.means(x), mc.n_classes, mc.pca_dim, True, seed + epoch)
    return uniform_label_indices(labels, len(x), rng), labels


def train(
    lrn: TextLearner,
    x: torch.Tensor,
    seed: int,
    opt: torch.optim.Optimizer,
    start_epoch: int,
    hooks: TextHooks,
    save: Callable[[int], None],
) -> None:
    """Epochs ``start_epoch … mc.epochs`` on the id matrix ``x``. Batches depend only on
    (seed, epoch): a resumed run sees the data of an uninterrupted one (checkpoints at epoch
    ends)."""
    mc = lrn.mc
    for epoch in hooks.progress(range(start_epoch, mc.epochs), desc="epochs"):
        order, labels = epoch_order(lrn, x, seed, epoch)
        batches = [order[i : i + mc.batch_size] for i in range(0, len(order), mc.batch_size)]
        batches = [b for b in batches if len(b) > 1][: mc.max_steps or None]
        for b in batches:
            if lrn.ebm is None:
                loss = vae_loss(lrn, x[b])
            else:
                loss = ldebm_text_loss(lrn, x[b], torch.from_numpy(labels[b]).long())
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(lrn.vae.parameters(), mc.clip)
            if lrn.ebm is not None:
                nn.utils.clip_grad_norm_(lrn.ebm.parameters(), mc.ebm_clip)
            opt.step()
            check_finite(loss.detach(), epoch + 1)
        hooks.log(epoch + 1, loss=float(loss.detach()))
        save(epoch + 1)
        hooks.boundary(epoch + 1, lambda e=epoch + 1: save(e))
