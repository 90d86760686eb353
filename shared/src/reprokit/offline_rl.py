"""Offline-RL datasets in D4RL format: read/write hdf5, episodes, returns, normalized scores.

A dataset is a flat dict of arrays of equal length N (transitions):
``observations (N, obs_dim)``, ``actions (N, act_dim)``, ``next_observations (N, obs_dim)``,
``rewards (N,)``, ``terminals (N,)`` and ``timeouts (N,)`` (bool), plus optional
``infos/<name>`` arrays of leading length N. Episodes end where ``terminals | timeouts``;
a trailing segment without an end flag is its own (partial) episode.

Normalized score (D4RL): ``100 * (R - ref_min) / (ref_max - ref_min)`` with the reference
returns in :data:`REF_SCORES` (from D4RL's ``d4rl/infos.py``). Scores of locally generated
data are not comparable with published D4RL tables.

Example::

    from reprokit.offline_rl import load_d4rl, episode_returns, normalized_score

    data = load_d4rl("maze2d-umaze-v1.hdf5", derive_next_observations=True)
    scores = normalized_score("maze2d-umaze-v1", episode_returns(data))

CLI: ``python -m reprokit.offline_rl inspect FILE [--task TASK]`` prints JSON statistics.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from reprokit.atomic import atomic_path
from reprokit.errors import UserError

REQUIRED_KEYS = ("observations", "actions", "next_observations", "rewards", "terminals", "timeouts")
_RANK = {
    "observations": 2,
    "actions": 2,
    "next_observations": 2,
    "rewards": 1,
    "terminals": 1,
    "timeouts": 1,
}


class D4RLFormatError(UserError):
    """A malformed D4RL dataset; the one-line message names the file and the key."""


def _gym_refs() -> dict[str, tuple[float, float]]:
    # (REF_MIN_SCORE, REF_MAX_SCORE) of d4rl/infos.py; v1/v2 gym tasks reuse the v0 references.
    base = {
        "halfcheetah": (-280.178953, 12135.0),
        "hopper": (-20.272305, 3234.3),
        "walker2d": (1.629008, 4592.3),
        "ant": (-325.6, 3879.7),
    }
    kinds = ("random", "medium", "expert", "medium-replay", "medium-expert", "full-replay")
    refs = {}
    for env, ref in base.items():
        for kind in kinds:
            for version in ("v0", "v1", "v2"):
                if kind == "full-replay" and version == "v0":
                    continue
                refs[f"{env}-{kind}-{version}"] = ref
    return refs


REF_SCORES: dict[str, tuple[float, float]] = {
    "maze2d-open-v0": (0.01, 20.66),
    "maze2d-umaze-v1": (23.85, 161.86),
    "maze2d-medium-v1": (13.13, 277.39),
    "maze2d-large-v1": (6.7, 273.99),
    "maze2d-open-dense-v0": (11.17817, 27.166538620695782),
    "maze2d-umaze-dense-v1": (68.537689, 193.66285642381482),
    "maze2d-medium-dense-v1": (44.264742, 297.4552547777125),
    "maze2d-large-dense-v1": (30.569041, 303.4857382709002),
    **{
        f"antmaze-{m}-{v}": (0.0, 1.0)
        for m in (
            "umaze",
            "umaze-diverse",
            "medium-play",
            "medium-diverse",
            "large-play",
            "large-diverse",
        )
        for v in ("v0", "v2")
    },
    **{f"kitchen-{k}-v0": (0.0, 4.0) for k in ("complete", "partial", "mixed")},
    **_gym_refs(),
}


def _check(data: Mapping[str, np.ndarray], where: str) -> int:
    """Validate keys, ranks and lengths; return N."""
    for key in REQUIRED_KEYS:
        if key not in data:
            raise D4RLFormatError(
                f"{where}: missing key {key!r} (D4RL needs {', '.join(REQUIRED_KEYS)})"
            )
    for key, rank in _RANK.items():
        shape = np.shape(data[key])
        if len(shape) != rank:
            raise D4RLFormatError(f"{where}: key {key!r} must have rank {rank}, got shape {shape}")
    n = np.shape(data["observations"])[0]
    for key, arr in data.items():
        shape = np.shape(arr)
        if len(shape) == 0 or shape[0] != n:
            raise D4RLFormatError(
                f"{where}: key {key!r} has length {shape[0] if shape else 'scalar'}, "
                f"expected {n} (the length of 'observations')"
            )
    if np.shape(data["next_observations"]) != np.shape(data["observations"]):
        raise D4RLFormatError(
            f"{where}: key 'next_observations' has shape {np.shape(data['next_observations'])}, "
            f"expected {np.shape(data['observations'])} like 'observations'"
        )
    return n


def _normalize_dtypes(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = dict(data)
    for key in ("observations", "actions", "next_observations", "rewards"):
        out[key] = np.asarray(out[key], dtype=np.float32)
    for key in ("terminals", "timeouts"):
        out[key] = np.asarray(out[key]).astype(bool)
    return out


def derive_next(observations: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """next_observations[i] = observations[i + 1] inside an episode; at an episode's end, itself."""
    nxt = np.empty_like(observations)
    nxt[:-1] = observations[1:]
    nxt[-1:] = observations[-1:]
    nxt[ends] = observations[ends]
    return nxt


def load_d4rl(
    path: str | os.PathLike, derive_next_observations: bool = False
) -> dict[str, np.ndarray]:
    """Read a D4RL hdf5 file into a flat dict (``infos/*`` keys kept with their prefix).

    Original D4RL maze2d files carry no ``next_observations``: pass
    ``derive_next_observations=True`` to build it with :func:`derive_next`.
    Any problem raises :class:`D4RLFormatError` naming the file and the key.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise D4RLFormatError(f"{path}: file not found (expected a D4RL-format hdf5 file)")
    data: dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as f:

            def visit(name: str, obj) -> None:
                if isinstance(obj, h5py.Dataset) and (name in _RANK or name.startswith("infos/")):
                    data[name] = obj[()]

            f.visititems(visit)
    except OSError as e:
        raise D4RLFormatError(f"{path}: not a readable hdf5 file ({e})") from None
    if derive_next_observations and "next_observations" not in data:
        for key in ("observations", "terminals", "timeouts"):
            if key not in data:
                raise D4RLFormatError(f"{path}: missing key {key!r}")
        ends = np.asarray(data["terminals"]).astype(bool) | np.asarray(data["timeouts"]).astype(
            bool
        )
        if np.ndim(data["observations"]) >= 1 and len(ends) == len(data["observations"]):
            data["next_observations"] = derive_next(np.asarray(data["observations"]), ends)
    _check(data, str(path))
    return _normalize_dtypes(data)


def write_d4rl(path: str | os.PathLike, data: Mapping[str, np.ndarray]) -> Path:
    """Validate ``data`` and write it as D4RL hdf5, atomically (temp file + ``os.replace``).

    ``infos`` may be given as ``"infos/<name>"`` keys or as a nested dict ``data["infos"]``.
    """
    import h5py

    path = Path(path)
    flat: dict[str, np.ndarray] = {}
    for key, value in data.items():
        if key == "infos" and isinstance(value, Mapping):
            flat.update({f"infos/{k}": np.asarray(v) for k, v in value.items()})
        else:
            flat[key] = np.asarray(value)
    _check(flat, f"write_d4rl({path})")
    flat = _normalize_dtypes(flat)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        for key, arr in flat.items():
            f.create_dataset(key, data=arr)
    return path


def episode_bounds(data: Mapping[str, np.ndarray]) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of every episode (split after each ``terminals | timeouts``)."""
    ends = np.asarray(data["terminals"]).astype(bool) | np.asarray(data["timeouts"]).astype(bool)
    n = len(ends)
    stops = [int(i) + 1 for i in np.flatnonzero(ends)]
    if not stops or stops[-1] != n:
        stops.append(n)  # trailing unterminated segment
    starts = [0, *stops[:-1]]
    return [(a, b) for a, b in zip(starts, stops) if b > a]


def split_episodes(data: Mapping[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """Episodes as dicts with the same keys as ``data``, sliced along the transition axis."""
    n = len(data["terminals"])
    per_step = {k: v for k, v in data.items() if np.ndim(v) >= 1 and len(v) == n}
    return [{k: v[a:b] for k, v in per_step.items()} for a, b in episode_bounds(data)]


def episode_returns(data: Mapping[str, np.ndarray]) -> np.ndarray:
    """Undiscounted return (float64) of every episode, in order."""
    rewards = np.asarray(data["rewards"], dtype=np.float64)
    return np.array([rewards[a:b].sum() for a, b in episode_bounds(data)], dtype=np.float64)


def normalized_score(
    task_or_refs: str | tuple[float, float] | Sequence[float], returns: float | np.ndarray
) -> float | np.ndarray:
    """D4RL normalized score ``100 * (R - ref_min) / (ref_max - ref_min)``.

    ``task_or_refs`` is a task name of :data:`REF_SCORES` or a pair ``(ref_min, ref_max)``.
    """
    if isinstance(task_or_refs, str):
        if task_or_refs not in REF_SCORES:
            prefix = task_or_refs.split("-")[0]
            close = sorted(k for k in REF_SCORES if k.startswith(prefix))[:8]
            raise ValueError(
                f"no D4RL reference scores for task {task_or_refs!r}"
                + (f" (known: {', '.join(close)}, ...)" if close else "")
            )
        lo, hi = REF_SCORES[task_or_refs]
    else:
        lo, hi = (float(v) for v in task_or_refs)
    if hi == lo:
        raise ValueError(f"reference scores must differ, got min = max = {lo}")
    score = 100.0 * (np.asarray(returns, dtype=np.float64) - lo) / (hi - lo)
    return float(score) if score.ndim == 0 else score


def inspect(path: str | os.PathLike, task: str | None = None) -> dict:
    """Statistics of a D4RL file: episodes, transitions, return min/mean/max (+ normalized)."""
    data = load_d4rl(path, derive_next_observations=True)
    rets = episode_returns(data)
    out = {
        "file": str(path),
        "episodes": len(rets),
        "transitions": len(data["rewards"]),
        "return_min": float(rets.min()) if len(rets) else None,
        "return_mean": float(rets.mean()) if len(rets) else None,
        "return_max": float(rets.max()) if len(rets) else None,
    }
    if task is not None and len(rets):
        out["normalized_mean"] = normalized_score(task, float(rets.mean()))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reprokit.offline_rl", description="Inspect D4RL-format hdf5 files."
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_inspect = sub.add_parser("inspect", help="print episode/return statistics as JSON")
    p_inspect.add_argument("file")
    p_inspect.add_argument("--task", default=None, help="D4RL task name for a normalized score")
    args = parser.parse_args(argv)
    try:
        stats = inspect(args.file, task=args.task)
    except ValueError as e:  # D4RLFormatError and unknown tasks
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(stats, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
