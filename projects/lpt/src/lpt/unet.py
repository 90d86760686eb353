"""The prior network U_α of LPT (the learned prior): z = U_α(z0), z0 ~ N(0, I).

A 1-D UNet over the flattened latent, seen as a 1-channel signal of length n_latent * h, as in
the official ``model/unet1d.py`` (itself the ``Unet1D`` of denoising-diffusion-pytorch without a
time embedding): weight-standardised convolutions, GroupNorm, SiLU, two ResNet blocks and a
linear-attention layer per level, full attention in the middle, skip connections. Written here
from that description.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn


class WSConv1d(nn.Conv1d):
    """Conv1d with weight standardisation (zero mean, unit variance per output filter)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eps = 1e-5 if x.dtype == torch.float32 else 1e-3
        w = self.weight
        mean = w.mean(dim=(1, 2), keepdim=True)
        var = w.var(dim=(1, 2), keepdim=True, unbiased=False)
        return F.conv1d(x, (w - mean) * (var + eps).rsqrt(), self.bias, self.stride, self.padding)


class ResnetBlock(nn.Module):
    """(WSConv3 -> GroupNorm -> SiLU) x 2 plus a 1x1 residual projection."""

    def __init__(self, dim: int, dim_out: int, groups: int) -> None:
        super().__init__()
        self.conv1, self.norm1 = WSConv1d(dim, dim_out, 3, padding=1), nn.GroupNorm(groups, dim_out)
        self.conv2 = WSConv1d(dim_out, dim_out, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, dim_out)
        self.res = nn.Conv1d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.silu(self.norm1(self.conv1(x)))
        h = F.silu(self.norm2(self.conv2(h)))
        return h + self.res(x)


class LinearAttention(nn.Module):
    """Residual pre-norm linear attention (softmax over features for q, over positions for k)."""

    def __init__(self, dim: int, heads: int, dim_head: int) -> None:
        super().__init__()
        self.heads, self.scale = heads, dim_head**-0.5
        self.norm = nn.GroupNorm(1, dim)
        self.to_qkv = nn.Conv1d(dim, 3 * heads * dim_head, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv1d(heads * dim_head, dim, 1), nn.GroupNorm(1, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, n = x.shape
        q, k, v = self.to_qkv(self.norm(x)).reshape(B, 3, self.heads, -1, n).unbind(1)
        q, k = q.softmax(dim=-2) * self.scale, k.softmax(dim=-1)  # (B, heads, d, n)
        context = torch.einsum("bhdn,bhen->bhde", k, v)
        out = torch.einsum("bhde,bhdn->bhen", context, q).reshape(B, -1, n)
        return x + self.to_out(out)


class Attention(nn.Module):
    """Residual pre-norm full self-attention over positions (UNet middle)."""

    def __init__(self, dim: int, heads: int, dim_head: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(1, dim)
        self.to_qkv = nn.Conv1d(dim, 3 * heads * dim_head, 1, bias=False)
        self.to_out = nn.Conv1d(heads * dim_head, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, _, n = x.shape
        q, k, v = self.to_qkv(self.norm(x)).reshape(B, 3, self.heads, -1, n).unbind(1)
        out = F.scaled_dot_product_attention(
            q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2)
        )  # (B, heads, n, d)
        return x + self.to_out(out.transpose(-1, -2).reshape(B, -1, n))


class UNet1D(nn.Module):
    """U_α: (B, 1, L) -> (B, 1, L); L must be divisible by 2^(len(dim_mults) - 1)."""

    def __init__(
        self,
        dim: int,
        dim_mults: tuple[int, ...],
        groups: int = 8,
        attn_heads: int = 4,
        attn_dim_head: int = 32,
    ) -> None:
        super().__init__()
        self.n_down = len(dim_mults) - 1
        self.init_conv = nn.Conv1d(1, dim, 7, padding=3)
        dims = [dim, *(dim * m for m in dim_mults)]
        in_out = list(itertools.pairwise(dims))
        self.downs, self.ups = nn.ModuleList(), nn.ModuleList()
        for i, (d_in, d_out) in enumerate(in_out):
            last = i == len(in_out) - 1
            self.downs.append(
                nn.ModuleList(
                    [
                        ResnetBlock(d_in, d_in, groups),
                        ResnetBlock(d_in, d_in, groups),
                        LinearAttention(d_in, attn_heads, attn_dim_head),
                        nn.Conv1d(d_in, d_out, 3, padding=1)
                        if last
                        else nn.Conv1d(d_in, d_out, 4, 2, 1),
                    ]
                )
            )
        mid = dims[-1]
        self.mid1, self.mid2 = ResnetBlock(mid, mid, groups), ResnetBlock(mid, mid, groups)
        self.mid_attn = Attention(mid, attn_heads, attn_dim_head)
        for i, (d_in, d_out) in enumerate(reversed(in_out)):
            last = i == len(in_out) - 1
            up = (
                nn.Conv1d(d_out, d_in, 3, padding=1)
                if last
                else nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.Conv1d(d_out, d_in, 3, padding=1),
                )
            )
            self.ups.append(
                nn.ModuleList(
                    [
                        ResnetBlock(d_out + d_in, d_out, groups),
                        ResnetBlock(d_out + d_in, d_out, groups),
                        LinearAttention(d_out, attn_heads, attn_dim_head),
                        up,
                    ]
                )
            )
        self.final_res = ResnetBlock(2 * dim, dim, groups)
        self.final_conv = nn.Conv1d(dim, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % (2**self.n_down):
            raise ValueError(f"UNet1D length {x.shape[-1]} not divisible by {2**self.n_down}")
        x = self.init_conv(x)
        r, skips = x.clone(), []
        for block1, block2, attn, down in self.downs:
            x = block1(x)
            skips.append(x)
            x = attn(block2(x))
            skips.append(x)
            x = down(x)
        x = self.mid2(self.mid_attn(self.mid1(x)))
        for block1, block2, attn, up in self.ups:
            x = block1(torch.cat((x, skips.pop()), dim=1))
            x = attn(block2(torch.cat((x, skips.pop()), dim=1)))
            x = up(x)
        return self.final_conv(self.final_res(torch.cat((x, r), dim=1)))
