"""Maximum-likelihood learning of the policy prior from state-only transitions.

The gradient of log p(s_{t+1} | s_{t−L+1:t}) with the action a_t latent is

    ∇_α log p = E_{p(a | ctx, s')}[∇_α f_α(ctx, a)] − E_{p_α(a | ctx)}[∇_α f_α(ctx, a)].

Both expectations use the same n short-run prior samples a_1..a_n: the posterior
p(a | ctx, s') ∝ p_α(a | ctx)·p_β(s' | s, a) by self-normalised importance sampling with weights
p_β(s' | s, a_i) / mean_j p_β(s' | s, a_j), the prior term by the plain average. The official
surrogate (``cubic/main.py``) folds both into one loss with w_i − 1:

    loss = −mean_i[f_α(ctx, a_i)·(w_i − 1)] + λ_f·mean[f²] + λ_g·mean[(‖∇_a f‖ − 2)_+²].
"""

from __future__ import annotations

import math

import torch

from lanmdp.langevin import Energy


def transition_log_lik(
    s_next: torch.Tensor, s: torch.Tensor, a: torch.Tensor, sigma: float, floor: float
) -> torch.Tensor:
    """log p_β(s' | s, a) of the Gaussian generator N(s + a, σ²) (the task's known transition
    y' = y + a), floored at ``floor`` (official: −20)."""
    err = s_next - s - a
    log_p = -0.5 * (err / sigma) ** 2 - math.log(sigma * math.sqrt(2.0 * math.pi))
    return log_p.clamp_min(floor)


def importance_weights(log_lik: torch.Tensor) -> torch.Tensor:
    """Self-normalised posterior weights w_i = p_i / mean_j p_j over the last dim (sum = n)."""
    return log_lik.shape[-1] * torch.softmax(log_lik, dim=-1)


def contrastive_loss(
    f: Energy,
    a: torch.Tensor,
    w: torch.Tensor,
    f_sq: float,
    grad_penalty: float = 0.0,
) -> torch.Tensor:
    """The surrogate loss of one member, summed over members: w (M, N, n) → scalar; a is
    (M, N, n) for scalar actions or (M, N, n, A) for vector actions (the gradient penalty then
    takes the official ‖∇_a f‖_∞).

    Its α-gradient is −(posterior − prior expectation of ∇f) plus the regularisers' gradients.
    """
    a = a.detach().requires_grad_(grad_penalty > 0)
    fa = f(a)  # (M, N, n)
    loss = -(fa * (w.detach() - 1.0)).mean(dim=(1, 2)) + f_sq * (fa**2).mean(dim=(1, 2))
    if grad_penalty > 0:
        (g,) = torch.autograd.grad(fa.sum(), a, create_graph=True)
        g_norm = g.abs() if g.dim() == fa.dim() else g.abs().amax(-1)
        loss = loss + grad_penalty * ((g_norm - 2.0).clamp_min(0) ** 2).mean(dim=(1, 2))
    return loss.sum()


def effective_sample_size(w: torch.Tensor) -> torch.Tensor:
    """ESS = (Σ_i w_i)² / Σ_i w_i² of the importance weights over the last dim (1 … n)."""
    return w.sum(-1) ** 2 / (w**2).sum(-1)


def posterior_error_ratio(a: torch.Tensor, w: torch.Tensor, a_true: torch.Tensor) -> torch.Tensor:
    """Posterior-weighted |a − a*| over the prior's |a − a*| per member (M,): < 1 when the
    transition likelihood moves the posterior towards the hidden action (the note's
    replacement for an effective-sample-size gate, design risk 5)."""
    if a.shape == w.shape:  # scalar actions: a (M, N, n), a_true (M, N)
        err = (a - a_true[..., None]).abs()
    else:  # vector actions: a (M, N, n, A), a_true (M, N, A); mean over A
        err = (a - a_true[..., None, :]).abs().mean(-1)
    post = (err * w).mean(dim=(1, 2))
    return post / err.mean(dim=(1, 2))


def clip_per_member(params: list[torch.Tensor], max_norm: float) -> None:
    """Clip each ensemble member's gradient norm to ``max_norm`` (official clip 0.5), as if
    every member were trained alone (every parameter has the member axis first)."""
    grads = [p.grad for p in params if p.grad is not None]
    sq = sum(g.pow(2).flatten(1).sum(1) for g in grads)
    scale = (max_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))
