"""Data: the 2-D imbalanced 8-mode Gaussian mixture, sklearn digits, user-supplied images."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from emd.configs import DataConfig
from reprokit.errors import UserError

# 2-D mixture: 8 modes on a circle of radius 1.5, std 0.08, imbalanced weights.
RADIUS, MODE_STD = 1.5, 0.08
WEIGHTS = np.array([0.30, 0.20, 0.15, 0.10, 0.10, 0.06, 0.05, 0.04])
_angles = 2 * np.pi * np.arange(8) / 8
MODES = RADIUS * np.stack([np.cos(_angles), np.sin(_angles)], axis=1)  # (8, 2)

SampleFn = Callable[[jax.Array, int], jax.Array]


def mixture_sample(key: jax.Array, n: int) -> jax.Array:
    """``n`` samples ``(n, 2)`` of the imbalanced mixture (jittable)."""
    k_c, k_n = jax.random.split(key)
    c = jax.random.choice(k_c, 8, (n,), p=jnp.asarray(WEIGHTS))
    return jnp.asarray(MODES, jnp.float32)[c] + MODE_STD * jax.random.normal(k_n, (n, 2))


def array_sampler(x: np.ndarray) -> SampleFn:
    """Uniform minibatches (with replacement) from a fixed training array ``(N, ...)``."""
    xs = jnp.asarray(x, jnp.float32)

    def sample(key: jax.Array, n: int) -> jax.Array:
        return xs[jax.random.randint(key, (n,), 0, xs.shape[0])]

    return sample


def load(cfg: DataConfig) -> tuple[SampleFn, tuple[int, ...], np.ndarray | None]:
    """``(sample(key, n), example_shape, test_array or None)`` for the configured dataset.

    Digits are flattened to 64-D vectors in [−1, 1]; images are NHWC in [−1, 1]. Raises
    ``UserError`` (one line) when an image path is missing or its images do not fit.
    """
    if cfg.dataset == "mixture2d":
        return mixture_sample, (2,), None
    if cfg.dataset == "digits":
        from reprokit.datasets import load_digits

        x_train, _ = load_digits(size=8, split="train")
        x_test, _ = load_digits(size=8, split="test")
        flat = lambda a: a.reshape(a.shape[0], -1)  # noqa: E731  (N, 1, 8, 8) -> (N, 64)
        return array_sampler(flat(x_train)), (64,), flat(x_test)
    if cfg.path is None:
        raise UserError("data.dataset=images needs --data.path (a .npz file or an image folder)")
    from pathlib import Path

    from reprokit.datasets import load_image_folder, load_npz_images

    p = Path(cfg.path)
    if not p.exists():
        raise UserError(f"dataset path {p} does not exist (expected a .npz file or image folder)")
    if p.is_dir():
        x, _ = load_image_folder(p, size=cfg.image_size)
    else:
        x = load_npz_images(p)
    x = np.transpose(x, (0, 2, 3, 1))  # (N, C, H, W) -> (N, H, W, C)
    if x.shape[1] != cfg.image_size:
        raise UserError(
            f"{p}: images are {x.shape[1]}px, expected data.image_size={cfg.image_size}"
        )
    return array_sampler(x), tuple(x.shape[1:]), None
