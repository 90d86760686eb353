"""Checkpoints of one JAX training loop inside a lifecycle unit folder.

``ckpt_<step>.npz`` holds the pytree (parameters, optimiser states, PRNG key; written by
``reprokit.jax_utils.save_pytree``); ``ckpt_<step>.json`` beside it holds the step, the config
hash and the loop's history so far. The JSON is written last, so its presence marks a complete
checkpoint. A checkpoint of another config, an unreadable one, or one whose pytree does not fit
the target is refused with a one-line ``CheckpointError``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jax

from reprokit.atomic import atomic_path
from reprokit.config import to_dict
from reprokit.errors import CheckpointError
from reprokit.jax_utils import load_pytree, save_pytree
from reprokit.lifecycle import NON_IDENTITY_KEYS, config_diff, config_hash
from reprokit.report import jsonable

_NAME = re.compile(r"^ckpt_(\d+)\.json$")


class Checkpoints:
    """Checkpoints in ``directory``, stamped with the hash of ``cfg``; the newest ``keep`` kept.

    Args:
        directory: the folder (``<unit folder>/checkpoints``).
        cfg: the run's resolved config (a dataclass); its hash is stored and checked.
        keep: how many checkpoints to keep.
    """

    def __init__(self, directory: str | Path, cfg: Any, keep: int = 2) -> None:
        self.dir, self.keep = Path(directory), keep
        self.config_hash = config_hash(cfg)
        cfg_dict = jsonable(to_dict(cfg))
        self.config = {k: v for k, v in cfg_dict.items() if k not in NON_IDENTITY_KEYS}

    def _steps(self) -> list[int]:
        if not self.dir.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.dir.iterdir() if (m := _NAME.match(p.name)))

    def _path(self, step: int, suffix: str) -> Path:
        return self.dir / f"ckpt_{step:09d}{suffix}"

    def last_step(self) -> int | None:
        """The step of the newest complete checkpoint, or None."""
        steps = self._steps()
        return steps[-1] if steps else None

    def save(self, step: int, tree: Any, meta: dict[str, Any]) -> Path:
        """Write ``tree`` (arrays, PRNG keys) and ``meta`` (JSON) as the checkpoint of ``step``."""
        save_pytree(self._path(step, ".npz"), jax.device_get(tree))
        doc = {"step": step, "config_hash": self.config_hash, "run_config": self.config, **meta}
        with atomic_path(self._path(step, ".json")) as tmp:
            tmp.write_text(json.dumps(jsonable(doc)), encoding="utf-8")
        for old in self._steps()[: -self.keep]:
            self._path(old, ".json").unlink(missing_ok=True)
            self._path(old, ".npz").unlink(missing_ok=True)
        return self._path(step, ".json")

    def latest(self, target: Any) -> tuple[int, Any, dict[str, Any]] | None:
        """``(step, tree, meta)`` of the newest checkpoint (``tree`` shaped like ``target``)."""
        step = self.last_step()
        if step is None:
            return None
        path = self._path(step, ".json")
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise CheckpointError(
                f"checkpoint {path} is unreadable ({type(e).__name__}); rerun with --fresh"
            ) from None
        if meta.get("config_hash") != self.config_hash:
            differs = config_diff(meta.get("run_config") or {}, self.config)
            raise CheckpointError(
                f"checkpoint {path} was written by another config (differs in {differs}); "
                "rerun with --fresh or delete it"
            )
        return step, load_pytree(self._path(step, ".npz"), target), meta
