"""The latent diffusion amortizer q_φ of DAMC (official ``_netQ_U`` + ``diffusion_helper_func``).

One conditional ε-prediction network serves both as the posterior amortizer q_φ(z|x) (context =
encoder(x)) and as the prior amortizer q_φ(z) (context = the "null" embedding prior_emb(n),
n ~ N(0, I)); during training the context is swapped for the null one with probability p_mask.

Continuous-time VP diffusion in log-SNR parametrisation (Kingma et al. 2021 style):
* schedule  λ(u) = −2 log tan(a u + b), b = arctan(e^{−λmax/2}), a = arctan(e^{−λmin/2}) − b
* forward   z_u = α_u z + σ_u ε, α_u² = sigmoid(λ), σ_u² = sigmoid(−λ)
* loss      ½‖ε − ε̂_φ(z_u, λ, c)‖², u ~ U(0, 1)
* sampler   ancestral steps s < t through q(z_s | z_t, ẑ₀), variance "large" (1 − SNR_t/SNR_s) σ_t²
            or "small" (the DDPM posterior variance).
"""

from __future__ import annotations

import copy
import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn


def logsnr_schedule(u: torch.Tensor, logsnr_min: float, logsnr_max: float) -> torch.Tensor:
    """λ(u) = −2 log tan(a u + b): λ(0) = logsnr_max (clean), λ(1) = logsnr_min (noisy)."""
    b = math.atan(math.exp(-0.5 * logsnr_max))
    a = math.atan(math.exp(-0.5 * logsnr_min)) - b
    return -2.0 * torch.log(torch.tan(a * u + b))


def diffuse(z: torch.Tensor, logsnr: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z_u = α_u z + σ_u ε with α_u² = sigmoid(λ), σ_u² = sigmoid(−λ); logsnr: (B, 1)."""
    return torch.sigmoid(logsnr).sqrt() * z + torch.sigmoid(-logsnr).sqrt() * eps


def pred_z0_from_eps(z_t: torch.Tensor, eps: torch.Tensor, logsnr: torch.Tensor) -> torch.Tensor:
    """ẑ₀ = (z_t − σ_t ε̂) / α_t written in λ: √(1 + e^{−λ}) (z_t − ε̂ / √(1 + e^{λ}))."""
    return torch.sqrt(1.0 + torch.exp(-logsnr)) * (z_t - eps * torch.rsqrt(1.0 + torch.exp(logsnr)))


def reverse_step(
    z0_hat: torch.Tensor,
    z_t: torch.Tensor,
    logsnr_s: torch.Tensor,
    logsnr_t: torch.Tensor,
    var_type: Literal["large", "small"] = "large",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std of q(z_s | z_t, z₀ = ẑ₀) for λ_s > λ_t; all (B, 1) or (B, d)."""
    r = torch.exp(logsnr_t - logsnr_s)  # SNR_t / SNR_s < 1
    one_minus_r = -torch.expm1(logsnr_t - logsnr_s)
    alpha_st = torch.sqrt((1.0 + torch.exp(-logsnr_t)) / (1.0 + torch.exp(-logsnr_s)))
    alpha_s = torch.sigmoid(logsnr_s).sqrt()
    mean = r * alpha_st * z_t + one_minus_r * alpha_s * z0_hat
    if var_type == "large":
        var = one_minus_r * torch.sigmoid(-logsnr_t)
    else:  # DDPM posterior variance β̃
        a_t, a_s = torch.sigmoid(logsnr_t), torch.sigmoid(logsnr_s)
        var = (1.0 - a_s) / (1.0 - a_t) * (1.0 - a_t / a_s)
    return mean, var.sqrt()


class SinusoidalEmbedding(nn.Module):
    """Transformer-style sin/cos embedding of a scalar in [0, 1] (scaled by 1000)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """t: (B,) -> (B, dim)."""
        half = self.dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / (half - 1))
        arg = 1000.0 * t[:, None] * freqs[None, :]
        return torch.cat([arg.sin(), arg.cos()], dim=-1)


class ConcatSquashLinearSkip(nn.Module):
    """h = W x ⊙ sigmoid(A c) + B c + S x: a context-gated linear layer with a skip path."""

    def __init__(self, dim_in: int, dim_out: int, dim_ctx: int) -> None:
        super().__init__()
        self.layer = nn.Linear(dim_in, dim_out)
        self.gate = nn.Linear(dim_ctx, dim_out)
        self.bias = nn.Linear(dim_ctx, dim_out, bias=False)
        self.skip = nn.Linear(dim_in, dim_out)

    def forward(self, ctx: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x) * torch.sigmoid(self.gate(ctx)) + self.bias(ctx) + self.skip(x)


class EpsNet(nn.Module):
    """ε̂_φ(z_t, λ, c): U-shaped MLP of context-gated layers (official ``Diffusion_UnetA``).

    Input features [sin 2πzB, cos 2πzB, z] (B ∈ R^{nz×nz/2} learned, Fourier features), time
    input arctan(e^{−λ/2})/(π/2) through a sinusoidal embedding and an MLP, widths
    (h, 2h, 2h) down, 2h mid, (2h, h, nz) up with U-skips; ``residual`` predicts ε̂ = z_t + out.
    """

    def __init__(
        self, nz: int, nxemb: int, ntemb: int = 64, hidden: int = 128, residual: bool = True
    ) -> None:
        super().__init__()
        self.nz, self.residual = nz, residual
        self.B = nn.Parameter(torch.randn(nz, max(nz // 2, 1)))
        nin = nz + 2 * self.B.shape[1]
        self.time_mlp = nn.Sequential(
            SinusoidalEmbedding(ntemb), nn.Linear(ntemb, ntemb), nn.SiLU(), nn.Linear(ntemb, ntemb)
        )
        c, h = nxemb + ntemb, hidden
        self.down = nn.ModuleList(
            [
                ConcatSquashLinearSkip(nin, h, c),
                ConcatSquashLinearSkip(h, 2 * h, c),
                ConcatSquashLinearSkip(2 * h, 2 * h, c),
            ]
        )
        self.mid = ConcatSquashLinearSkip(2 * h, 2 * h, c)
        self.up = nn.ModuleList(
            [
                ConcatSquashLinearSkip(4 * h, 2 * h, c),
                ConcatSquashLinearSkip(4 * h, h, c),
                ConcatSquashLinearSkip(2 * h, nz, c),
            ]
        )

    def forward(self, z_t: torch.Tensor, logsnr: torch.Tensor, xemb: torch.Tensor) -> torch.Tensor:
        """z_t: (B, nz), logsnr: (B,), xemb: (B, nxemb) -> ε̂: (B, nz)."""
        t_in = torch.atan(torch.exp(-0.5 * logsnr.clamp(-20.0, 20.0))) / (0.5 * math.pi)
        ctx = torch.cat([self.time_mlp(t_in), xemb], dim=1)  # (B, ntemb + nxemb)
        proj = 2.0 * math.pi * z_t @ self.B
        out = torch.cat([proj.sin(), proj.cos(), z_t], dim=1)
        hs = []
        for layer in self.down:
            out = layer(ctx, out)
            hs.append(out)
            out = F.leaky_relu(out, 0.01)
        out = self.mid(ctx, out)
        for layer in self.up:
            out = F.leaky_relu(torch.cat([out, hs.pop()], dim=1), 0.01)
            out = layer(ctx, out)
        return z_t + out if self.residual else out


class MLPEncoder(nn.Module):
    """x (B, ...) flattened -> context embedding (B, nxemb): MLP x_dim → hidden → nxemb."""

    def __init__(self, x_dim: int, nxemb: int, hidden: int = 256) -> None:
        super().__init__()
        act = nn.LeakyReLU(0.2)
        self.net = nn.Sequential(
            nn.Linear(x_dim, hidden), act, nn.Linear(hidden, hidden), act, nn.Linear(hidden, nxemb)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class ConvEncoder(nn.Module):
    """Official ``Encoder_cifar10``: conv + InstanceNorm + LeakyReLU, 32/64 px -> (B, nxemb)."""

    def __init__(self, nc: int, nxemb: int, nif: int = 64, size: int = 32) -> None:
        super().__init__()
        act = nn.LeakyReLU(0.2)
        layers: list[nn.Module] = [
            nn.Conv2d(nc, nif, 3, 1, 1),
            nn.InstanceNorm2d(nif, affine=True),
            act,
        ]
        ch, res = nif, size
        while res > 4:
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1), nn.InstanceNorm2d(ch * 2, affine=True), act]
            ch, res = ch * 2, res // 2
        layers += [nn.Conv2d(ch, nxemb, 4, 1, 0)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)


class DiffusionAmortizer(nn.Module):
    """q_φ(z|x) and q_φ(z) in one network (official ``_netQ_U``)."""

    def __init__(
        self,
        encoder: nn.Module,
        nz: int,
        nxemb: int,
        ntemb: int = 64,
        hidden: int = 128,
        residual: bool = True,
        n_steps: int = 100,
        logsnr_min: float = -5.1,
        logsnr_max: float = 9.8,
        var_type: Literal["large", "small"] = "large",
        sample_noise: bool = True,
    ) -> None:
        super().__init__()
        if n_steps < 2:
            raise ValueError(f"DiffusionAmortizer: n_steps must be >= 2, got {n_steps}")
        self.encoder = encoder
        self.eps_net = EpsNet(nz, nxemb, ntemb, hidden, residual)
        self.prior_emb = nn.Sequential(nn.Linear(nz, 128), nn.LeakyReLU(), nn.Linear(128, nxemb))
        self.nz, self.n_steps = nz, n_steps
        self.logsnr_min, self.logsnr_max = logsnr_min, logsnr_max
        self.var_type, self.sample_noise = var_type, sample_noise

    def null_embedding(self, b: int, device: torch.device) -> torch.Tensor:
        """The unconditional ("prior") context prior_emb(n), n ~ N(0, I): (b, nxemb)."""
        return self.prior_emb(torch.randn(b, self.nz, device=device))

    def context(self, x: torch.Tensor | None, b: int, mask: torch.Tensor | None = None):
        """encoder(x) where mask = 1, the null embedding where mask = 0 (or x is None)."""
        device = next(self.parameters()).device
        null = self.null_embedding(b, device)
        if x is None:
            return null
        xemb = self.encoder(x)
        if mask is None:
            return xemb
        return xemb * mask + null * (1.0 - mask)  # mask: (B, 1)

    def loss(
        self, z: torch.Tensor, x: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per-sample ½‖ε − ε̂_φ(z_u, λ(u), c)‖² with u ~ U(0, 1); z: (B, nz) -> (B,)."""
        u = torch.rand(len(z), device=z.device)
        logsnr = logsnr_schedule(u, self.logsnr_min, self.logsnr_max)  # (B,)
        eps = torch.randn_like(z)
        z_u = diffuse(z, logsnr[:, None], eps)
        eps_hat = self.eps_net(z_u, logsnr, self.context(x, len(z), mask))
        return 0.5 * (eps - eps_hat).pow(2).sum(dim=1)

    def forward(
        self, z: torch.Tensor, x: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The training loss (so that a DDP wrapper sees it as ``forward``): ``loss``."""
        return self.loss(z, x, mask)

    @torch.no_grad()
    def sample(self, x: torch.Tensor | None = None, n: int | None = None) -> torch.Tensor:
        """Ancestral sampling: z ~ q_φ(z|x) if x is given, else n draws of z ~ q_φ(z)."""
        device = next(self.parameters()).device
        b = len(x) if x is not None else int(n or 0)
        ctx = self.context(x, b)
        z_t = torch.randn(b, self.nz, device=device)
        for i in reversed(range(self.n_steps)):
            u_t = torch.full((b,), i / (self.n_steps - 1), device=device)
            u_s = torch.full((b,), max(i - 1, 0) / (self.n_steps - 1), device=device)
            logsnr_t = logsnr_schedule(u_t, self.logsnr_min, self.logsnr_max)
            logsnr_s = logsnr_schedule(u_s, self.logsnr_min, self.logsnr_max)
            eps_hat = self.eps_net(z_t, logsnr_t, ctx)
            z0_hat = pred_z0_from_eps(z_t, eps_hat, logsnr_t[:, None])
            if i == 0:
                return z0_hat
            mean, std = reverse_step(
                z0_hat, z_t, logsnr_s[:, None], logsnr_t[:, None], self.var_type
            )
            z_t = mean + std * torch.randn_like(z_t) if self.sample_noise else mean
        return z_t


@torch.no_grad()
def ema_update(target: nn.Module, source: nn.Module, rho: float) -> None:
    """φ̄ ← ρ φ + (1 − ρ) φ̄ (official: ρ = 0.005 every 10 iterations; toy ρ = 0.75)."""
    for p_t, p_s in zip(target.parameters(), source.parameters(), strict=True):
        p_t.mul_(1.0 - rho).add_(p_s.detach(), alpha=rho)


def ema_copy(source: nn.Module) -> nn.Module:
    """A frozen deep copy used as the EMA target q_φ̄."""
    target = copy.deepcopy(source)
    for p in target.parameters():
        p.requires_grad_(False)
    return target
