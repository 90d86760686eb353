"""LanMDP's policy for continuous control: an energy-based prior over latent actions
p_α(a | s) ∝ exp(f_α(s, a)) on the box [−1, 1]^A (official MuJoCo ``EnergyFunc``, context 1),
sampled by short-run Langevin, learned by MLE through the learned transition p_β.

* ``StateActionEnergy``: f_α = MLP(S + A → h × layers → 1), Swish, weights ~ N(0, 0.01²).
* ``prior_sample``: the official ``sampler.py`` chain: a ~ U[−1, 1]; per step noise N(0, ε²),
  ∇_a E clamped, a ← a − ½·η_k·∇_a E with η_k polynomial (power 2) from η_max down to η_min.
* ``mle_loss``: n prior samples per demonstrated (s, s'), self-normalised importance weights
  p_β(s' | s, a_i) / mean_j p_β(s' | s, a_j) and the contrastive loss of ``mle``.
* ``act``: execution = prior sampling: K chains per state, the mode (largest f) plus
  N(0, noise²), as the official evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lanmdp.dynamics import TransitionModel
from lanmdp.langevin import LangevinSpec, autograd_grad, langevin_step
from lanmdp.mle import contrastive_loss, effective_sample_size, importance_weights
from lanmdp.model import EnsembleMLP

BOX = 1.0  # Reacher's torque range


class StateActionEnergy(nn.Module):
    """f_α(s, a) (…) for states (…, S) standardised by the demonstrations' statistics."""

    def __init__(self, s_mean: torch.Tensor, s_std: torch.Tensor, A: int, hidden: int, layers: int):
        super().__init__()
        self.register_buffer("s_mean", s_mean)
        self.register_buffer("s_std", s_std)
        self.action_dim = A
        self.net = EnsembleMLP(1, len(s_mean) + A, hidden, layers, 1)
        for p in self.net.parameters():
            nn.init.normal_(p, 0.0, 0.01)  # official init N(0, 0.01)

    def forward(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        x = torch.cat([(s - self.s_mean) / self.s_std, a], -1)
        return self.net(x.reshape(1, -1, x.shape[-1])).reshape(x.shape[:-1])


@dataclass(frozen=True)
class ChainSpec:
    """The short-run chain: steps, noise ε, gradient clamp and the η schedule (official 40,
    0.1, 0.3, η 10 → 1, power 2)."""

    steps: int
    noise: float
    grad_clamp: float
    eta_max: float
    eta_min: float

    def step_sizes(self) -> list[float]:
        """½·η_k with η_k = (η_max − η_min)(1 − k/K)² + η_min, k = 0 … K − 1."""
        K = self.steps
        return [
            0.5 * ((self.eta_max - self.eta_min) * (1 - k / K) ** 2 + self.eta_min)
            for k in range(K)
        ]


def prior_sample(energy: StateActionEnergy, s: torch.Tensor, n: int, spec: ChainSpec):
    """n short-run prior samples per state: s (B, S) → a (B, n, A) (no graph)."""
    s_rep = s[:, None].expand(-1, n, -1)
    grad = autograd_grad(lambda a: energy(s_rep, a))
    shape = (len(s), n, energy.action_dim)
    a = (torch.rand(shape, device=s.device) * 2.0 - 1.0) * BOX
    for eta in spec.step_sizes():
        a = langevin_step(grad, a, LangevinSpec(eta, spec.noise, spec.grad_clamp, BOX))
    return a


@dataclass(frozen=True)
class MLESpec:
    """Prior samples n, transition σ (in std units of s' − s), regularisers λ_f, λ_g, and
    ``uniform_weights`` (the wrong-method control: posterior = prior, what the official
    log-p floor produces when every log-p sits below it; design risk 8)."""

    n_prior: int
    sigma: float
    f_sq: float
    grad_penalty: float
    uniform_weights: bool = False


def mle_loss(
    energy: StateActionEnergy,
    dynamics: TransitionModel,
    s: torch.Tensor,
    s_next: torch.Tensor,
    spec: MLESpec,
    chain: ChainSpec,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The contrastive loss on demonstrated transitions (s, s') (B, S) with latent actions, and
    the diagnostics: the ESS of the weights and the samples and weights themselves."""
    a = prior_sample(energy, s, spec.n_prior, chain)  # (B, n, A)
    s_rep = s[:, None].expand(-1, spec.n_prior, -1)
    with torch.no_grad():
        log_lik = dynamics.log_lik(s_next[:, None], s_rep, a, spec.sigma)  # (B, n)
    w = torch.ones_like(log_lik) if spec.uniform_weights else importance_weights(log_lik)
    loss = contrastive_loss(
        lambda x: energy(s_rep[None], x), a[None], w[None], spec.f_sq, spec.grad_penalty
    )
    return loss, {"ess": effective_sample_size(w), "a": a, "w": w}


@torch.no_grad()
def act(
    energy: StateActionEnergy, s: torch.Tensor, candidates: int, chain: ChainSpec, noise: float
) -> torch.Tensor:
    """Execution by prior sampling: the largest-f of K chains per state, plus N(0, noise²)."""
    a = prior_sample(energy, s, candidates, chain)  # (E, K, A)
    f = energy(s[:, None].expand(-1, candidates, -1), a)
    mode = a[torch.arange(len(s)), f.argmax(1)]
    return (mode + noise * torch.randn_like(mode)).clamp(-BOX, BOX)
