"""Shared fixtures: a small random MLP teacher and a Gaussian toy problem with known scores.

The suite runs the real entry point several times in-process on the same small shapes; JAX's
persistent compilation cache (a temporary folder, set before anything is compiled) lets every
run after the first reuse the compiled XLA programs. It caches compiled
code only, so the numbers are those of an uncached run.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile

import jax
import pytest

_CACHE = tempfile.mkdtemp(prefix="emd-jax-cache-")
atexit.register(shutil.rmtree, _CACHE, True)
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

from emd.model import Denoiser, init_params, make_apply  # noqa: E402


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
