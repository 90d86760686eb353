"""Shared fixtures: a small random MLP teacher and a Gaussian toy problem with known scores.

The suite is bound by XLA compilation, not by computing: its shapes are tiny. Two settings,
made before anything is compiled, cut that cost without changing what a test checks:

- JAX's persistent compilation cache (a temporary folder) lets every run of the real entry point
  after the first reuse the compiled programs (it caches compiled code only);
- ``jax_disable_most_optimizations`` skips XLA's optimisation passes (also for the subprocesses
  the tests start, through its environment variable): compiling is several times faster, running
  the tiny programs a little slower. Every assertion is on the numbers the code computes; the
  committed profiles run with XLA's default optimisations.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import jax
import pytest

_CACHE = tempfile.mkdtemp(prefix="emd-jax-cache-")
atexit.register(shutil.rmtree, _CACHE, True)
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
jax.config.update("jax_disable_most_optimizations", True)
os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "1"  # the tests' subprocesses

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
