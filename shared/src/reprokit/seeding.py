"""One seeding call for python, numpy and (when in use) torch.

JAX has no global random state: JAX code derives ``jax.random.key(seed)`` from the same seed
(and ``fold_in(key, step)`` for resumable randomness), so nothing is imported or seeded here.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np

__all__ = ["seed_everything"]


def seed_everything(
    seed: int, *, torch: bool | None = None, deterministic: bool = False
) -> np.random.Generator:
    """Seed ``random``, numpy's global state and torch; return ``np.random.default_rng(seed)``.

    Args:
        seed: the run's seed.
        torch: ``None`` (default) seeds torch only if it is already imported (a torch project
            has imported it; a JAX project never pays for the import); ``True`` imports and seeds
            it when installed; ``False`` skips it.
        deterministic: also ask torch for deterministic kernels
            (``torch.use_deterministic_algorithms(True, warn_only=True)``, cuDNN benchmark off).
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["PYTHONHASHSEED"] = str(seed)  # inherited by subprocesses
    if torch is None:
        torch = "torch" in sys.modules
    if torch:
        try:
            import torch as _torch
        except ImportError:
            _torch = None
        if _torch is not None:
            _torch.manual_seed(seed)  # also seeds every CUDA device
            if deterministic:
                _torch.use_deterministic_algorithms(True, warn_only=True)
                _torch.backends.cudnn.benchmark = False
                _torch.backends.cudnn.deterministic = True
    return np.random.default_rng(seed)
