"""ADM-style U-Net v-predictor for images (the ``paper`` profile's ImageNet-64 architecture).

Follows the layout of Dhariwal & Nichol's ADM as used by EDM's ImageNet-64 model: residual blocks
with GroupNorm + SiLU and scale/shift conditioning on the noise embedding, self-attention at the
listed resolutions, ``num_res_blocks`` per level, skip connections by concatenation. Here the
noise embedding is Fourier features of ``λ`` and there is no class label (see Deviations).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from emd.model import fourier_features


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=math.gcd(32, ch))


class ResBlock(nn.Module):
    """``h = x + conv(silu(GN(conv(silu(GN(x)))) · (1 + scale) + shift))``."""

    out_ch: int

    @nn.compact
    def __call__(self, x: jax.Array, emb: jax.Array) -> jax.Array:
        h = nn.Conv(self.out_ch, (3, 3))(nn.silu(_norm(x.shape[-1])(x)))
        scale, shift = jnp.split(nn.Dense(2 * self.out_ch)(nn.silu(emb))[:, None, None, :], 2, -1)
        h = nn.silu(_norm(self.out_ch)(h) * (1 + scale) + shift)
        h = nn.Conv(self.out_ch, (3, 3), kernel_init=nn.initializers.zeros)(h)
        skip = x if x.shape[-1] == self.out_ch else nn.Conv(self.out_ch, (1, 1))(x)
        return skip + h


class Attention(nn.Module):
    """Multi-head self-attention over the ``H·W`` positions (64 channels per head)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        B, H, W, C = x.shape
        h = _norm(C)(x).reshape(B, H * W, C)
        h = nn.MultiHeadDotProductAttention(num_heads=max(1, C // 64))(h, h)
        return x + h.reshape(B, H, W, C)


class UNet(nn.Module):
    """``v̂(x_t (B, H, W, C), λ (B,)) -> (B, H, W, C)``."""

    channels: int = 192
    channel_mult: tuple[int, ...] = (1, 2, 3, 4)
    num_res_blocks: int = 3
    attn_resolutions: tuple[int, ...] = (32, 16, 8)
    n_fourier: int = 16

    @nn.compact
    def __call__(self, x_t: jax.Array, lam: jax.Array) -> jax.Array:
        C = self.channels
        emb = fourier_features(lam, self.n_fourier)
        emb = nn.Dense(4 * C)(nn.silu(nn.Dense(4 * C)(emb)))  # (B, 4C)
        h = nn.Conv(C, (3, 3))(x_t)
        skips, res = [h], x_t.shape[1]
        for level, mult in enumerate(self.channel_mult):
            for _ in range(self.num_res_blocks):
                h = ResBlock(C * mult)(h, emb)
                if res in self.attn_resolutions:
                    h = Attention()(h)
                skips.append(h)
            if level < len(self.channel_mult) - 1:
                h = nn.Conv(h.shape[-1], (3, 3), strides=(2, 2))(h)
                res //= 2
                skips.append(h)
        h = ResBlock(h.shape[-1])(h, emb)
        h = Attention()(h)
        h = ResBlock(h.shape[-1])(h, emb)
        for level, mult in reversed(list(enumerate(self.channel_mult))):
            for _ in range(self.num_res_blocks + 1):
                h = ResBlock(C * mult)(jnp.concatenate([h, skips.pop()], axis=-1), emb)
                if res in self.attn_resolutions:
                    h = Attention()(h)
            if level > 0:
                B, H, W, ch = h.shape
                h = jax.image.resize(h, (B, 2 * H, 2 * W, ch), "nearest")
                h = nn.Conv(ch, (3, 3))(h)
                res *= 2
        h = nn.silu(_norm(h.shape[-1])(h))
        return nn.Conv(x_t.shape[-1], (3, 3), kernel_init=nn.initializers.zeros)(h)
