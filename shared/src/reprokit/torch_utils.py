"""Checkpoints, RNG state and a NaN guard for torch training loops (extra ``torch``).

    ckpt = Checkpointer(run.dir / "checkpoints", every=100)
    step = ckpt.resume(model, optimizer, np_rng=rng)          # 0 on a fresh start
    with TerminationFlag() as stop:                            # SIGTERM -> checkpoint and exit
        for step in range(step, cfg.steps):
            loss = train_step(...)
            check_finite(loss, step)                           # DivergenceError on NaN/inf
            if ckpt.due(step + 1) or stop.requested:
                ckpt.save(step + 1, {"model": model.state_dict(), ...,
                                     "rng": capture_rng_state(rng)})
            if stop.requested:
                raise SystemExit(143)

Saving is atomic (temp file in the same folder, fsync, ``os.replace``), loading is safe
(``torch.load(weights_only=True)``: no pickled code runs) and every failure is a one-line
:class:`CheckpointError` naming the file. A state holding a NaN/inf tensor is never written
(:class:`DivergenceError`), so the last good checkpoint survives a divergence.
"""

from __future__ import annotations

import math
import random
import re
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reprokit.atomic import atomic_path
from reprokit.errors import CheckpointError, DivergenceError

__all__ = [
    "CheckpointError",
    "Checkpointer",
    "DivergenceError",
    "TerminationFlag",
    "all_finite",
    "capture_rng_state",
    "check_finite",
    "load_checkpoint",
    "restore_rng_state",
    "save_checkpoint",
]


def save_checkpoint(path: str | Path, state: Mapping[str, Any]) -> Path:
    """``torch.save(state)`` atomically: temp file in the same folder, fsync, ``os.replace``.

    Keep the state to tensors, numbers, strings, lists, tuples and dicts (``to_dict(cfg)`` for
    configs, :func:`capture_rng_state` for RNG) so that a ``weights_only`` load accepts it.
    """
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(dict(state), f)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; CheckpointError when missing or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:
        reason = " ".join(str(e).split())[:200]
        raise CheckpointError(
            f"checkpoint {path} is corrupt or not a safe torch checkpoint "
            f"({type(e).__name__}: {reason})"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds {type(state).__name__}, expected a dict")
    return state


# ----------------------------------------------------------------------------- RNG state


def capture_rng_state(np_rng: np.random.Generator | None = None) -> dict[str, Any]:
    """Python, numpy (global and ``np_rng``), torch CPU and CUDA RNG states, weights_only-safe."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if np_rng is not None:
        state["np_generator"] = np_rng.bit_generator.state
    return state


def restore_rng_state(state: Mapping[str, Any], np_rng: np.random.Generator | None = None) -> None:
    """Inverse of :func:`capture_rng_state` (``np_rng`` receives the saved generator state)."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    keys = np.asarray(n["keys"].numpy() if hasattr(n["keys"], "numpy") else n["keys"])
    np.random.set_state(
        (n["kind"], keys.astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"])
    )
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    if np_rng is not None:
        if "np_generator" not in state:
            raise CheckpointError("checkpoint holds no numpy Generator state to restore")
        np_rng.bit_generator.state = state["np_generator"]


# ----------------------------------------------------------------------------- NaN guard


def all_finite(obj: Any) -> bool:
    """True when every floating tensor / number inside ``obj`` (nested dicts/lists) is finite."""
    if isinstance(obj, torch.Tensor):
        return not obj.is_floating_point() or bool(torch.isfinite(obj).all())
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, Mapping):
        return all(all_finite(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return all(all_finite(v) for v in obj)
    if isinstance(obj, np.ndarray) and np.issubdtype(obj.dtype, np.floating):
        return bool(np.isfinite(obj).all())
    return True


def check_finite(value: Any, step: int, name: str = "loss") -> None:
    """Raise :class:`DivergenceError` when ``value`` (number, tensor, dict) holds NaN/inf."""
    if not all_finite(value):
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        shown = value if isinstance(value, int | float) else "non-finite values"
        raise DivergenceError(
            f"{name} is {shown} at step {step}: training diverged; stopping "
            "(checkpoints written before this step are kept)"
        )


# ----------------------------------------------------------------------------- helpers


class TerminationFlag:
    """Context manager turning SIGTERM (and optionally SIGINT) into ``flag.requested = True``.

    The loop checks the flag, writes a checkpoint and exits cleanly; the previous handlers
    are restored on exit. Only usable in the main thread.
    """

    def __init__(self, signals: tuple[int, ...] = (signal.SIGTERM,)) -> None:
        self.signals = signals
        self.requested = False
        self._old: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True

    def __enter__(self) -> TerminationFlag:
        for s in self.signals:
            self._old[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)


_NAME = re.compile(r"ckpt_(\d+)\.pt$")


class Checkpointer:
    """Periodic checkpoints in ``directory`` (``ckpt_<step>.pt``), keeping the newest ``keep``.

    Args:
        directory: folder for the checkpoint files.
        every: ``due(step)`` is true every ``every`` steps.
        keep: how many checkpoints to keep (older ones are deleted after a successful save).
        enabled: False on non-zero ranks (``Checkpointer(..., enabled=is_main())``): ``save``
            is then a no-op while ``latest`` still reads.
        config: the run's resolved config (a dataclass or ``to_dict(cfg)``): its hash
            (``reprokit.lifecycle.config_hash``) and the dict are stored in every checkpoint; a
            checkpoint of another config is refused with one line naming the keys that differ.
    """

    def __init__(
        self,
        directory: str | Path,
        every: int = 1,
        keep: int = 2,
        enabled: bool = True,
        config: Any = None,
    ) -> None:
        if every < 1 or keep < 1:
            raise ValueError("Checkpointer: every and keep must be >= 1")
        self.dir, self.every, self.keep, self.enabled = Path(directory), every, keep, enabled
        self.config: dict[str, Any] | None = None
        self.config_hash: str | None = None
        if config is not None:
            from reprokit.lifecycle import _identity, config_hash

            self.config, self.config_hash = _identity(config), config_hash(config)
        self.state: dict[str, Any] | None = None  # the checkpoint last read by resume()

    def _files(self) -> list[tuple[int, Path]]:
        if not self.dir.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.dir.iterdir() if (m := _NAME.search(p.name))]
        return sorted(found)

    def due(self, step: int) -> bool:
        """True when a checkpoint is scheduled after ``step`` completed steps."""
        return step % self.every == 0

    def path(self, step: int) -> Path:
        return self.dir / f"ckpt_{step:09d}.pt"

    def save(self, step: int, state: Mapping[str, Any]) -> Path | None:
        """Write ``state`` (``step`` is added) unless it holds NaN/inf (DivergenceError)."""
        if not self.enabled:
            return None
        if not all_finite(state):
            raise DivergenceError(
                f"refusing to checkpoint non-finite state at step {step}; "
                f"the last good checkpoint in {self.dir} is kept"
            )
        extra = {"config_hash": self.config_hash, "run_config": self.config} if self.config else {}
        out = save_checkpoint(self.path(step), {**state, **extra, "step": int(step)})
        for _, old in self._files()[: -self.keep]:
            old.unlink(missing_ok=True)
        return out

    def latest(self) -> dict[str, Any] | None:
        """The newest readable checkpoint (a corrupt newest one falls back to older); or None."""
        errors = []
        for _, p in reversed(self._files()):
            try:
                state = load_checkpoint(p)
            except CheckpointError as e:
                errors.append(str(e))
                continue
            self._check_identity(p, state)
            return state
        if errors:
            raise CheckpointError(f"no readable checkpoint in {self.dir}: {errors[0]}")
        return None

    def _check_identity(self, path: Path, state: Mapping[str, Any]) -> None:
        if self.config_hash is None or state.get("config_hash") == self.config_hash:
            return
        from reprokit.lifecycle import config_diff

        theirs = state.get("run_config")
        differs = config_diff(theirs, self.config) if isinstance(theirs, Mapping) else "unknown"
        raise CheckpointError(
            f"checkpoint {path} was written by another config (differs in {differs}); "
            "rerun with --fresh or delete it"
        )

    def resume(
        self,
        model: torch.nn.Module | None = None,
        optimizer: torch.optim.Optimizer | None = None,
        np_rng: np.random.Generator | None = None,
    ) -> int:
        """Load the newest checkpoint into model / optimizer / RNGs; returns its step (0 if none).

        Expects the keys written by convention: ``model``, ``optimizer``, ``rng``, ``step``.
        """
        state = self.latest()
        if state is None:
            return 0
        path = self.path(int(state["step"]))
        try:
            if model is not None:
                target = model.module if hasattr(model, "module") else model
                target.load_state_dict(state["model"])
            if optimizer is not None and "optimizer" in state:
                optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, KeyError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CheckpointError(
                f"checkpoint {path} does not fit this model ({first[:160]}); "
                "rerun with --fresh or delete it"
            ) from None
        if "rng" in state:
            restore_rng_state(state["rng"], np_rng)
        self.state = state
        return int(state["step"])
