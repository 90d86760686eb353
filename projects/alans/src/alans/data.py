"""Datasets: cached generated splits, Tier-A symbolic inputs, Tier-B pixel crops.

Generated arrays are cached by ``reprokit.cache.cached_npz`` (atomic, checksummed, keyed by
generator version + parameters; folder from ``$REPROKIT_DATA``).
"""

from __future__ import annotations

import numpy as np
import torch

from reprokit.cache import cached_npz

from .generator import generate
from .grammar import LAYOUTS, N_VALUES
from .render import render_problems
from .splits import split_spec

GENERATOR_VERSION = 1
PART_SEED = {"train": 0, "val": 1, "iid": 2, "test": 3}


def load_split(
    split: str, part: str, n: int, seed: int, config: str = "center", iraven: bool = True
) -> dict[str, np.ndarray]:
    """``n`` problems of one part of one split (generated once, then read from the cache)."""
    spec = split_spec(split, part, config)  # validates the names first
    params = {
        "split": split,
        "part": part,
        "n": n,
        "seed": seed,
        "config": config,
        "iraven": iraven,
    }
    gen_seed = 1_000_003 * seed + 7919 * PART_SEED[part] + 31 * len(split) + len(config)
    return cached_npz(
        "alans_rpm", GENERATOR_VERSION, params, lambda: generate(spec, n, gen_seed, iraven)
    )


def _one_hot(x: np.ndarray, k: int, eps: float) -> torch.Tensor:
    oh = torch.nn.functional.one_hot(torch.as_tensor(x), k).double()
    return oh * (1 - eps) + eps / k


def symbolic_inputs(data: dict[str, np.ndarray], eps: float = 0.0) -> dict[str, torch.Tensor]:
    """Ground-truth panel distributions (Tier A), optionally label-smoothed by ``eps``.

    Returns type/size/color (N, 16, V); for a Grid with S slots (S = 4 or 9, the generator's
    angle columns) also number (N, 16, S) over counts 1..S and exist (N, 16, S, 2) per slot.
    """
    P = data["panels"]  # (N, 16, 4): mask, type, size, color
    out = {
        a: _one_hot(P[..., i], N_VALUES[a], eps) for i, a in enumerate(("type", "size", "color"), 1)
    }
    if (P[..., 0] != 1).any():  # Grid
        S = data["angles"].shape[-1]
        bits = (P[..., 0:1] >> np.arange(S)) & 1  # (N, 16, S)
        out["number"] = _one_hot(bits.sum(-1) - 1, S, eps)
        out["exist"] = _one_hot(bits, 2, eps)
    return out


def flat_onehots(data: dict[str, np.ndarray]) -> torch.Tensor:
    """(N, 16, F) concatenated one-hots for the connectionist baselines (F = 21 on Center)."""
    d = symbolic_inputs(data)
    parts = [d[a] for a in ("type", "size", "color")]
    if "exist" in d:
        parts += [d["number"], d["exist"][..., 1]]
    return torch.cat(parts, -1).float()


def pixel_crops(data: dict[str, np.ndarray], config: str, px: int = 32) -> np.ndarray:
    """Rendered slot crops (N, 16, S, px, px) uint8: Center = whole panel, Grid = its k x k
    cells (k = 2, 3), row-major like the slot bits (``dataset.py``: 80-px / 53-px cells)."""
    if config == "center":
        return render_problems(data["panels"], data["angles"], config, px)[:, :, None]
    k = {4: 2, 9: 3}[LAYOUTS[config].n_slots]
    full = render_problems(data["panels"], data["angles"], config, k * px)
    cells = range(k)
    q = [full[..., r * px : (r + 1) * px, c * px : (c + 1) * px] for r in cells for c in cells]
    return np.stack(q, 2)


def cached_crops(
    split: str,
    part: str,
    n: int,
    seed: int,
    config: str = "center",
    iraven: bool = True,
    px: int = 32,
) -> np.ndarray:
    """Rendered crops of ``load_split(split, part, n, seed, config, iraven)`` (cached)."""
    data = load_split(split, part, n, seed, config, iraven)
    params = {"split": split, "part": part, "n": n, "seed": seed, "config": config, "px": px}
    params["iraven"] = iraven
    return cached_npz(
        "alans_crops", GENERATOR_VERSION, params, lambda: {"crops": pixel_crops(data, config, px)}
    )["crops"]
