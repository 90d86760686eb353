"""Latent-space EBM prior model p(x, z) = p_α(z) p_β(x|z) (paper Sec. 2).

* prior     p_α(z) ∝ exp(−E_α(z)) N(z; 0, I)       (E_α: ``EnergyPrior``, lower = more probable)
* generator p_β(x|z) = N(G_β(z), σ² I)               (``MLPGenerator`` / ``ConvGenerator``)

``LatentEBM`` bundles both and exposes the two energies the Langevin chains target:
``prior_energy`` U⁻(z) = E_α(z) + ½‖z‖² and ``posterior_energy``
U⁺(z; x) = ‖x − G_β(z)‖² / (2σ²) + U⁻(z), i.e. −log p(z|x) up to a constant.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class EnergyPrior(nn.Module):
    """E_α(z): MLP nz → ndf → ndf → 1 with LeakyReLU(0.2), no spectral norm (official ``_netE``)."""

    def __init__(self, nz: int, ndf: int = 200) -> None:
        super().__init__()
        self.nz = nz
        act = nn.LeakyReLU(0.2)
        self.net = nn.Sequential(
            nn.Linear(nz, ndf), act, nn.Linear(ndf, ndf), act, nn.Linear(ndf, 1)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, nz) -> energy (B,)."""
        return self.net(z).squeeze(-1)


class MLPGenerator(nn.Module):
    """G_β(z) for small images: MLP nz → hidden → hidden → C·H·W, LeakyReLU(0.2), tanh output."""

    def __init__(self, nz: int, x_shape: tuple[int, ...], hidden: int = 256) -> None:
        super().__init__()
        self.x_shape = tuple(x_shape)
        act = nn.LeakyReLU(0.2)
        self.net = nn.Sequential(
            nn.Linear(nz, hidden),
            act,
            nn.Linear(hidden, hidden),
            act,
            nn.Linear(hidden, math.prod(self.x_shape)),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, nz) -> x̂: (B, *x_shape) in [-1, 1]."""
        return self.net(z).view(len(z), *self.x_shape)


class ConvGenerator(nn.Module):
    """DCGAN-style G_β(z) of the official code (``_netG_cifar10`` / ``_netG_celeba64``).

    nz → 8·ngf at 8×8 (or 4×4 then doubled for 64 px) → ... → nc channels, LeakyReLU(0.2), Tanh.
    """

    def __init__(self, nz: int, ngf: int, nc: int = 3, size: int = 32) -> None:
        super().__init__()
        if size not in (32, 64):
            raise ValueError(f"ConvGenerator: size must be 32 or 64, got {size}")
        act = nn.LeakyReLU(0.2)
        layers: list[nn.Module] = []
        if size == 32:  # 1 -> 8 -> 16 -> 32
            layers += [nn.ConvTranspose2d(nz, ngf * 8, 8, 1, 0), act]
        else:  # 1 -> 4 -> 8 -> 16 -> 32 -> 64
            layers += [nn.ConvTranspose2d(nz, ngf * 16, 4, 1, 0), act]
            layers += [nn.ConvTranspose2d(ngf * 16, ngf * 8, 4, 2, 1), act]
        layers += [nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1), act]
        layers += [nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1), act]
        if size == 64:
            layers += [nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1), act]
            layers += [nn.ConvTranspose2d(ngf, nc, 3, 1, 1), nn.Tanh()]
        else:
            layers += [nn.ConvTranspose2d(ngf * 2, nc, 3, 1, 1), nn.Tanh()]
        self.nz = nz
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, nz) -> x̂: (B, nc, size, size)."""
        return self.net(z.view(len(z), self.nz, 1, 1))


class LatentEBM(nn.Module):
    """p(x, z) = p_α(z) p_β(x|z) with the energies targeted by prior / posterior Langevin."""

    def __init__(self, G: nn.Module, E: nn.Module, sigma: float) -> None:
        super().__init__()
        self.G, self.E, self.sigma = G, E, float(sigma)
        self.nz: int = E.nz

    def prior_energy(self, z: torch.Tensor) -> torch.Tensor:
        """U⁻(z) = E_α(z) + ½‖z‖² = −log p_α(z) + const; z: (B, nz) -> (B,)."""
        return self.E(z) + 0.5 * z.pow(2).sum(dim=1)

    def posterior_energy(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """U⁺(z; x) = ‖x − G_β(z)‖²/(2σ²) + U⁻(z) = −log p_θ(z|x) + const; -> (B,)."""
        sq = (self.G(z) - x).pow(2).flatten(1).sum(dim=1)
        return sq / (2.0 * self.sigma**2) + self.prior_energy(z)
