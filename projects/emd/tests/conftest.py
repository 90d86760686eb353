"""Shared fixtures: a small random MLP teacher and a Gaussian toy problem with known scores."""

from __future__ import annotations

import jax
import pytest
from emd.model import Denoiser, init_params, make_apply


@pytest.fixture(scope="session")
def small_net():
    """``(apply, ψ)`` of an untrained 2-D MLP v-predictor with non-zero output layer."""
    net = Denoiser(dim=2, hidden=32, depth=2, n_fourier=8)
    psi = init_params(net, jax.random.key(0), (2, 2))
    # The output layer is zero-initialised; give it weights so that ψ is a non-trivial network.
    k = jax.random.key(1)
    last = sorted(psi.keys(), key=lambda n: int(n.split("_")[-1]))[-1]
    psi = dict(psi)
    psi[last] = {
        "kernel": 0.3 * jax.random.normal(k, psi[last]["kernel"].shape),
        "bias": psi[last]["bias"],
    }
    return make_apply(net), psi
