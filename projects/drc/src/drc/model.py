"""The DRC generative model: two experts, pixel re-assignment and per-pixel region competition.

(x_f, m_f) = G_f(z_f)                         foreground expert: image and mask logit
(x_b, m_b) = G_b(z_b)                         background expert
g = g_id + Delta(z_s, sg[h_b])                learned pixel re-assignment grid (WarpNet)
x~_b = warp(x_b, g),  m~_b = warp(m_b, g)     bilinear grid sampling
pi = softmax([m_f, m~_b]) over the 2 experts  region competition, pi_f + pi_b = 1 per pixel
x^ = pi_f x_f + pi_b x~_b                      composite image
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from drc.configs import ModelConfig
from drc.networks import Generator, WarpNet
from torch import nn

from reprokit.errors import UserError


def identity_grid(B: int, H: int, W: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """The grid `warp` maps to the identity: pixel centres in [-1, 1], (B, H, W, 2) as (x, y)."""
    ys = (torch.arange(H, device=device, dtype=torch.float32) * 2 + 1) / H - 1
    xs = (torch.arange(W, device=device, dtype=torch.float32) * 2 + 1) / W - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1).expand(B, H, W, 2)


def deform_grid(delta: torch.Tensor) -> torch.Tensor:
    """g = tanh(artanh(g_id) + Delta): a tanh grid like the official one, g_id at Delta = 0.

    Every sampling location stays inside the canvas (|g| < 1), as with the official tanh head.
    """
    B, H, W, _ = delta.shape
    return torch.tanh(torch.atanh(identity_grid(B, H, W, delta.device)) + delta)


def warp(img: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Re-assign pixels: out[..., i, j] = img sampled (bilinear) at grid[:, i, j]."""
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def region_competition(m_f: torch.Tensor, m_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log pi = log_softmax([m_f, m_b]) over the 2 experts, per pixel: two (B, 1, H, W) tensors."""
    log_pi = torch.cat([m_f, m_b], dim=1).log_softmax(dim=1)  # (B, 2, H, W)
    return log_pi[:, :1], log_pi[:, 1:]


class Render(NamedTuple):
    """One forward pass of DRC (all (B, C, H, W)); a NamedTuple so that DDP sees its tensors."""

    x_f: torch.Tensor  # foreground expert image
    x_b: torch.Tensor  # background expert image before re-assignment
    x_bw: torch.Tensor  # warped (re-assigned) background image x~_b
    log_pi_f: torch.Tensor  # log pi_f (B, 1, H, W)
    log_pi_b: torch.Tensor  # log pi_b
    m_f: torch.Tensor  # foreground mask logits
    m_b: torch.Tensor  # background mask logits before warping
    grid: torch.Tensor | None  # (B, H, W, 2), None without re-assignment

    @property
    def pi_f(self) -> torch.Tensor:
        return self.log_pi_f.exp()

    @property
    def composite(self) -> torch.Tensor:
        """x^ = pi_f x_f + pi_b x~_b."""
        return self.pi_f * self.x_f + self.log_pi_b.exp() * self.x_bw


class DRC(nn.Module):
    """Foreground and background generators plus the warp net; z = [z_f, z_b, z_s].

    Without re-assignment (the ablation) there is no warp net and no z_s.
    """

    def __init__(self, cfg: ModelConfig, image_size: int) -> None:
        super().__init__()
        expected = 4 * 2 ** (len(cfg.channels) - 1)
        if image_size != expected:
            raise UserError(
                f"image_size {image_size} does not match model.channels {cfg.channels} "
                f"(which decode to {expected}x{expected})"
            )
        self.zf_dim, self.zb_dim = cfg.zf_dim, cfg.zb_dim
        self.reassign = cfg.reassign
        self.zs_dim = cfg.zs_dim if cfg.reassign else 0
        args = (cfg.channels, cfg.enc_channels, image_size, cfg.n_classes)
        self.fg_net = Generator(cfg.zf_dim, *args, norm=cfg.fg_instance_norm)
        self.bg_net = Generator(cfg.zb_dim, *args, norm=cfg.bg_instance_norm)
        self.sp_net = WarpNet(cfg.zs_dim, cfg.channels) if cfg.reassign else None

    @property
    def z_dim(self) -> int:
        return self.zf_dim + self.zb_dim + self.zs_dim

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """z (B, D) -> z_f (B, zf), z_b (B, zb), z_s (B, zs; empty without re-assignment)."""
        return z.split([self.zf_dim, self.zb_dim, self.zs_dim], dim=1)

    def render(self, z: torch.Tensor) -> Render:
        """The generative model without the encoders (what Langevin differentiates)."""
        z_f, z_b, z_s = self.split(z)
        x_f, m_f, _ = self.fg_net(z_f)
        x_b, m_b, h_b = self.bg_net(z_b)
        if self.sp_net is not None:
            grid = deform_grid(self.sp_net(z_s, h_b))  # (B, H, W, 2)
            x_bw, m_bw = warp(x_b, grid), warp(m_b, grid)
        else:  # ablation: no pixel re-assignment (grid = identity)
            grid, x_bw, m_bw = None, x_b, m_b
        log_pi_f, log_pi_b = region_competition(m_f, m_bw)
        return Render(x_f, x_b, x_bw, log_pi_f, log_pi_b, m_f, m_b, grid)

    def forward(
        self, z: torch.Tensor, encode: bool = True
    ) -> tuple[Render, torch.Tensor | None, torch.Tensor | None]:
        """Render plus the pseudo-label encoder logits (f_logits, b_logits), (B, K) each."""
        r = self.render(z)
        if not encode:
            return r, None, None
        return r, self.fg_net.logits(r.x_f, r.m_f), self.bg_net.logits(r.x_b, r.m_b)
