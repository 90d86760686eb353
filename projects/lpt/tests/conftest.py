"""Shared fixtures: tiny models and synthetic batches (no data generation, no network)."""

from __future__ import annotations

import pytest
import torch
from lpt.model import LPT


def tiny_lpt(
    use_unet: bool = True, dropout: float = 0.0, discrete: bool = False, act_dim: int = 2
) -> LPT:
    torch.manual_seed(0)
    return LPT(
        obs_dim=4,
        act_dim=act_dim,
        h=16,
        n_layer=2,
        n_head=2,
        window=6,
        dropout=dropout,
        n_latent=4,
        use_unet=use_unet,
        unet_dim=8,
        unet_mults=(1, 2),
        unet_attn_heads=2,
        unet_attn_dim_head=8,
        discrete=discrete,
    )


@pytest.fixture
def batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    B, T = 3, 10
    mask = torch.ones(B, T)
    mask[1, 7:] = 0  # a shorter, right-padded trajectory
    return {
        "states": torch.randn(B, T, 4, generator=g),
        "actions": torch.rand(B, T, 2, generator=g) * 2 - 1,
        "mask": mask,
        "y": torch.tensor([0.2, 0.5, 0.9]),
        "idx": torch.tensor([4, 0, 2]),
    }


@pytest.fixture
def discrete_batch(batch) -> dict[str, torch.Tensor]:
    """The same trajectories with one-hot actions over 7 choices (Connect Four's columns)."""
    cols = torch.randint(0, 7, batch["mask"].shape, generator=torch.Generator().manual_seed(2))
    return batch | {"actions": torch.nn.functional.one_hot(cols, 7).float()}
