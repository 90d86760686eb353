"""Networks of DRC (official `src/networks.py`, re-implemented): generators, warp net, encoders.

Generator (FgNet / BgNet): z -> Linear -> (C0, 4, 4) -> UpBlocks -> an image head (conv3x3 +
tanh) and a mask-logit head (conv3x3). A pseudo-label encoder (DownBlocks -> K logits) reads
x * sigmoid(m); it is used only by the pseudo-label cross-entropy regulariser of the M-step.
WarpNet (SpNet): [Linear(z_s) -> (C0, 4, 4), sg(h_b)] -> the same decoder -> 2-channel grid logits.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from reprokit.errors import UserError


class UpBlock(nn.Sequential):
    """Bilinear x2 upsampling, conv3x3, InstanceNorm(affine), LeakyReLU(0.01).

    `norm=False` drops the InstanceNorm (and gives the conv a bias instead): InstanceNorm removes
    each image's per-channel mean and scale, so a decoder with it cannot paint a flat or
    low-frequency colour that depends on z (README, Deviations).
    """

    def __init__(self, c_in: int, c_out: int, norm: bool = True) -> None:
        layers: list[nn.Module] = [
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(c_in, c_out, 3, 1, 1, bias=not norm),
        ]
        if norm:
            layers.append(nn.InstanceNorm2d(c_out, affine=True))
        super().__init__(*layers, nn.LeakyReLU(0.01))


class DownBlock(nn.Sequential):
    """conv4x4 stride 2 (no bias), InstanceNorm(affine), LeakyReLU(0.2)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False),
            nn.InstanceNorm2d(c_out, affine=True),
            nn.LeakyReLU(0.2),
        )


def decoder(channels: tuple[int, ...], norm: bool = True) -> nn.Sequential:
    """UpBlocks channels[0] -> channels[1] -> ...: (B, C0, 4, 4) -> (B, C_last, 4*2^(L-1), ...)."""
    return nn.Sequential(*[UpBlock(a, b, norm) for a, b in itertools.pairwise(channels)])


class Encoder(nn.Module):
    """Pseudo-label encoder: DownBlocks, then a conv over the remaining map -> K logits."""

    def __init__(self, c_in: int, enc_channels: tuple[int, ...], image_size: int, K: int) -> None:
        super().__init__()
        chans = (c_in, *enc_channels)
        self.down = nn.Sequential(*[DownBlock(a, b) for a, b in itertools.pairwise(chans)])
        s = image_size // 2 ** len(enc_channels)
        if s < 1:
            raise UserError(f"image_size {image_size} too small for {len(enc_channels)} DownBlocks")
        self.head = nn.Conv2d(enc_channels[-1], K, s)  # (B, C, s, s) -> (B, K, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.down(x)).flatten(1)  # (B, K)


def orthogonal_init(module: nn.Module) -> None:
    """Orthogonal conv/linear weights, zero biases (official `init_weights('orthogonal')`)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.orthogonal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """One expert (FgNet or BgNet): z -> (image x_k in [-1,1], mask logit m_k, stem h_k)."""

    def __init__(
        self,
        z_dim: int,
        channels: tuple[int, ...],
        enc_channels: tuple[int, ...],
        image_size: int,
        K: int,
        norm: bool = True,
    ) -> None:
        super().__init__()
        self.c0 = channels[0]
        self.fc = nn.Sequential(nn.Linear(z_dim, self.c0 * 16), nn.LeakyReLU(0.2))
        self.decode = decoder(channels, norm)
        self.im_head = nn.Conv2d(channels[-1], 3, 3, 1, 1)
        self.ma_head = nn.Conv2d(channels[-1], 1, 3, 1, 1)
        self.encode = Encoder(3, enc_channels, image_size, K)
        orthogonal_init(self)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.fc(z).view(z.shape[0], self.c0, 4, 4)  # (B, C0, 4, 4)
        feat = self.decode(h)  # (B, C_last, H, W)
        return torch.tanh(self.im_head(feat)), self.ma_head(feat), h

    def logits(self, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        """Pseudo-label logits of the encoder over x * sigmoid(m): (B, K)."""
        return self.encode(x * torch.sigmoid(m))


class WarpNet(nn.Module):
    """SpNet: (z_s, sg[h_b]) -> grid logits Delta (B, H, W, 2); see `model.deform_grid`."""

    def __init__(self, z_dim: int, channels: tuple[int, ...]) -> None:
        super().__init__()
        self.c0 = channels[0]
        self.fc = nn.Sequential(nn.Linear(z_dim, self.c0 * 16), nn.LeakyReLU(0.2))
        self.decode = decoder((2 * self.c0, *channels[1:]))  # the stem sees [z_s features, h_b]
        self.head = nn.Conv2d(channels[-1], 2, 3, 1, 1)
        orthogonal_init(self)

    def forward(self, z_s: torch.Tensor, h_b: torch.Tensor) -> torch.Tensor:
        h = self.fc(z_s).view(z_s.shape[0], self.c0, 4, 4)
        feat = self.decode(torch.cat([h_b.detach(), h], dim=1))  # (B, C_last, H, W)
        return self.head(feat).permute(0, 2, 3, 1)  # (B, H, W, 2)
