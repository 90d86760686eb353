"""EM objective and regularisers of DRC (official `EABPModel.update_G/update_E`, `src/loss.py`).

E-step responsibilities and the expected complete-data log-likelihood Q (the M-step objective):
    log p_k = -|x_k - x| / (2 sigma^2)                         (L1 pixel likelihood, per channel)
    gamma_f = sg[pi_f p_f / (pi_f p_f + pi_b p_b)]
    Q = gamma_f (log pi_f + log p_f) + (1 - gamma_f)(log pi_b + log p_b)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from drc.configs import LossConfig
from drc.model import Render
from torch import nn


def expert_log_lik(x_k: torch.Tensor, x: torch.Tensor, sigma: float | None) -> torch.Tensor:
    """log p_k = -|x_k - x| / (2 sigma^2) per element (B, 3, H, W); sigma=None: unscaled."""
    d = (x_k - x).abs()
    return -d if sigma is None else -d / (2 * sigma**2)


def responsibilities(
    log_pi_f: torch.Tensor, log_pi_b: torch.Tensor, log_p_f: torch.Tensor, log_p_b: torch.Tensor
) -> torch.Tensor:
    """gamma_f = pi_f p_f / (pi_f p_f + pi_b p_b) (stop-gradient), computed stably in log space."""
    with torch.no_grad():
        return torch.sigmoid(log_pi_f + log_p_f - log_pi_b - log_p_b)


def expected_complete_log_lik(r: Render, x: torch.Tensor, sigma: float | None) -> torch.Tensor:
    """Q per element (B,3,H,W): gamma_f (log pi_f + log p_f) + (1-gamma_f)(log pi_b + log p_b)."""
    log_p_f = expert_log_lik(r.x_f, x, sigma)
    log_p_b = expert_log_lik(r.x_bw, x, sigma)
    gamma_f = responsibilities(r.log_pi_f, r.log_pi_b, log_p_f, log_p_b)
    return gamma_f * (r.log_pi_f + log_p_f) + (1 - gamma_f) * (r.log_pi_b + log_p_b)


def tv(x: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation per image: sum |dx| + |dy| -> (B,)."""
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).sum(1)
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).sum(1)
    return dx + dy


def pseudo_label_ce(symbol_logits: torch.Tensor, enc_logits: torch.Tensor) -> torch.Tensor:
    """H(softmax(sg[EBM symbol logits]), softmax(encoder logits)) per image (B,)."""
    target = F.softmax(symbol_logits.detach(), dim=1)
    return -(target * F.log_softmax(enc_logits, dim=1)).sum(1)


def orthogonality(*modules: nn.Module) -> torch.Tensor:
    """Sum over every 4-D conv weight W (out, ...) of ||offdiag(W W^T)||_F^2."""
    penalties = []
    for mod in modules:
        for p in mod.parameters():
            if p.ndim == 4 and p.requires_grad:
                W = p.flatten(1)  # (out, in*k*k)
                G = W @ W.t()  # Gram matrix (out, out)
                penalties.append((G - torch.diag(torch.diag(G))).square().sum())
    return torch.stack(penalties).sum() if penalties else torch.zeros(())


def generator_loss(
    r: Render,
    x: torch.Tensor,
    f_logits: torch.Tensor | None,
    b_logits: torch.Tensor | None,
    zf_symbols: torch.Tensor,
    zb_symbols: torch.Tensor,
    ortho_modules: tuple[nn.Module, ...],
    cfg: LossConfig,
) -> tuple[torch.Tensor, dict[str, float]]:
    """M-step loss: -mean Q (unscaled L1) + tv TV(x~_b) + ce (H_f + H_b) + orth R_orth."""
    Q = expected_complete_log_lik(r, x, sigma=None).mean()
    terms = {"Q": Q}
    loss = -Q
    if cfg.tv > 0:  # official: per-element mean of the TV map
        B, C, H, W = r.x_bw.shape
        terms["tv"] = tv(r.x_bw).sum() / (B * C * H * (W - 1))
        loss = loss + cfg.tv * terms["tv"]
    if cfg.ce > 0 and f_logits is not None and b_logits is not None:
        terms["ce_f"] = pseudo_label_ce(zf_symbols, f_logits).mean()
        terms["ce_b"] = pseudo_label_ce(zb_symbols, b_logits).mean()
        loss = loss + cfg.ce * (terms["ce_f"] + terms["ce_b"])
    if cfg.orth > 0:
        terms["orth"] = orthogonality(*ortho_modules)
        loss = loss + cfg.orth * terms["orth"]
    return loss, {k: float(v.detach()) for k, v in terms.items()}


def ebm_loss(E_post: torch.Tensor, E_prior: torch.Tensor) -> torch.Tensor:
    """L_E = mean E(z_post) - mean E(z_prior): lower E on posterior, raise it on prior samples."""
    return E_post.mean() - E_prior.mean()
