"""Atomic file writes: a reader sees the old file or the whole new one, never a partial one.

Every writer in reprokit (checkpoints, caches, metrics, D4RL files, pytrees) goes through
:func:`atomic_path`: write to a temp file in the target's folder, fsync, ``os.replace`` onto the
target, fsync the folder; on any error the temp file is removed and the target is untouched.

    with atomic_path("out/metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics))
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "fsync_dir"]


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entry table (makes a rename durable); a no-op where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on clean exit it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the file gets the normal mode
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
