"""Importance-sampled marginal NLL of a text VAE (official ``_prior_lb`` + the sentence model's
importance sampler), for the LDEBM prior and for the Gaussian prior.

−log p(x) ≈ −log (1/S) Σ_s exp[log p(x|z_s) + log p(z_s) − log q(z_s|x)],  z_s ~ q(z|x).

The LDEBM prior has no closed-form density. Like ``_prior_lb``, log p(z) is the diffusion bound
along one forward path z = z_0 → z_1 → … → z_T, z_t ~ N(a_t z_{t−1}, σ_t²):

log p(z_0) ≈ log N(z_T; 0, I) + Σ_{t=1..T} [log p_θ(z_{t−1} | z_t) − log q(z_t | z_{t−1})],

with level t−1's conditional p_θ(z_{t−1}|z_t) ∝ exp(f(y, t−1)/b − ‖y − r·z_t‖²/2σ_t²),
y = a_prev[t]·z_{t−1}, r = is_recovery[t]. Its normaliser depends on the anchor z_t; here it is
estimated per anchor by importance sampling from the Gaussian reference y_m ~ N(r·z_t, σ_t² I):

log p_θ(z_{t−1}|z_t) = log N(y; r·z_t, σ_t²) + d·log a_prev[t] + f(y)/b − log mean_m exp f(y_m)/b.

The official code differs in two ways, both kept as options here: it scores f with b = 1 (the
sampler uses b = s_{t−1}², ``energy_scale="sampler"``, the density generation draws from) and it
estimates a single normaliser per level from the batch mean over all sentences' one-step
diffusions q(z_{t−1}|z_0) (not per anchor). With the exact conditionals the bound equals
log q_0(z_0) up to the top level's KL(q(z_T|z_{T−1}) ‖ N(0, I)) (tested on a 2-D GMM).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ldebm.corpus import PAD
from ldebm.energy import marginal_energy
from ldebm.langevin import frozen
from ldebm.schedule import Schedule
from ldebm.text_vae import TextVAE


def log_normal(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor | float) -> torch.Tensor:
    """log N(x; mean, var·I) summed over the last axis (var a scalar or per-dimension)."""
    var = torch.as_tensor(var, dtype=x.dtype)
    return (-0.5 * ((x - mean) ** 2 / var + torch.log(2 * math.pi * var))).sum(-1)


def log_mean_exp(x: torch.Tensor, dim: int) -> torch.Tensor:
    """log (1/n) Σ exp x along ``dim``, stably."""
    return torch.logsumexp(x, dim) - math.log(x.shape[dim])


@torch.no_grad()
def level_log_conditional(
    ebm: nn.Module,
    sched: Schedule,
    z_prev: torch.Tensor,
    z_next: torch.Tensor,
    t: int,
    n_proposals: int,
    energy_scale: str = "sampler",
) -> torch.Tensor:
    """log p_θ(z_{t−1} = z_prev | z_t = z_next) of level t−1, its normaliser estimated per
    anchor from ``n_proposals`` reference draws (module docstring), shape (B,)."""
    B, d = z_prev.shape
    a, r, sig = sched.a_s_prev[t], sched.is_recovery[t], sched.sigmas[t]
    b = sched.step_size_sq[t - 1] if energy_scale == "sampler" else torch.tensor(1.0)
    level = torch.full((B,), t - 1, dtype=torch.long)
    y, mean = a * z_prev, r * z_next
    props = mean[:, None] + sig * torch.randn(B, n_proposals, d)
    with frozen(ebm):
        f_y = marginal_energy(ebm(y, level)) / b
        f_m = marginal_energy(ebm(props.reshape(-1, d), level.repeat_interleave(n_proposals)))
    log_z = log_mean_exp((f_m / b).view(B, n_proposals), 1)
    return log_normal(y, mean, sig**2) + d * torch.log(a) + f_y - log_z


@torch.no_grad()
def ldebm_log_prior(
    ebm: nn.Module,
    sched: Schedule,
    z: torch.Tensor,
    n_proposals: int,
    energy_scale: str = "sampler",
) -> torch.Tensor:
    """The diffusion-bound estimate of log p_θ(z) (as z_0) along one forward path, (B,)."""
    path = [z]
    for t in range(1, sched.T + 1):
        path.append(sched.a_s[t] * path[-1] + sched.sigmas[t] * torch.randn_like(z))
    out = log_normal(path[-1], torch.zeros_like(z), 1.0)
    for t in range(1, sched.T + 1):
        p = level_log_conditional(ebm, sched, path[t - 1], path[t], t, n_proposals, energy_scale)
        q = log_normal(path[t], sched.a_s[t] * path[t - 1], sched.sigmas[t] ** 2)
        out = out + p - q
    return out


@torch.no_grad()
def importance_nll(
    vae: TextVAE,
    x: torch.Tensor,
    log_prior,
    n_samples: int,
    batch: int = 64,
) -> tuple[float, float]:
    """(NLL per sentence, NLL per word) in nats: −log p(x) by importance sampling from q(z|x)
    with ``n_samples`` draws; ``log_prior(z)`` → (N,) is log p(z) (exact or estimated). Words
    are the target tokens incl. </s>, as the reconstruction NLL counts them."""
    vae.eval()
    total = 0.0
    for i in range(0, len(x), batch):
        xb = x[i : i + batch]
        mu, logvar = vae.posterior(xb)
        z = mu[:, None] + (0.5 * logvar).exp()[:, None] * torch.randn(
            len(xb), n_samples, mu.shape[1]
        )
        flat = z.reshape(-1, mu.shape[1])
        log_px_z = -vae.reconstruction(xb.repeat_interleave(n_samples, 0), flat)[0]
        log_q = log_normal(z, mu[:, None], logvar.exp()[:, None])
        log_w = log_px_z.view(len(xb), n_samples) + log_prior(flat).view(len(xb), -1) - log_q
        total += float(-log_mean_exp(log_w, 1).sum())
    vae.train()
    words = int((x[:, 1:] != PAD).sum())
    return total / len(x), total / words


def gaussian_log_prior(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I): the Gaussian-prior VAE's exact prior density."""
    return log_normal(z, torch.zeros_like(z), 1.0)
