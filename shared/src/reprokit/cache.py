"""A cache for generated datasets (and other derived arrays) stored as checksummed ``.npz``.

The cache folder is ``$REPROKIT_DATA`` or ``~/.cache/reprokit``. An entry is keyed by the
generator's name, its version and a hash of its parameters (canonical JSON), written
atomically (temp file + ``os.replace``) and carries a SHA-256 over its arrays, so that a
truncated or corrupted file is detected on load and rebuilt.

Example::

    from reprokit.cache import cached_npz

    arrays = cached_npz("sprites", 1, {"n": 1000, "seed": 0}, build=lambda: make_sprites(1000, 0))
    x = arrays["x"]
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from reprokit.atomic import atomic_path
from reprokit.errors import UserError

ENV_VAR = "REPROKIT_DATA"
_CHECKSUM_KEY = "__reprokit_sha256__"


class CacheError(UserError):
    """A cache file that cannot be read or fails its checksum (one-line message)."""


def data_dir() -> Path:
    """The data/cache root: ``$REPROKIT_DATA`` if set, else ``~/.cache/reprokit`` (created)."""
    root = os.environ.get(ENV_VAR)
    path = Path(root).expanduser() if root else Path.home() / ".cache" / "reprokit"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path, os.PathLike)):
        return os.fspath(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"cache parameters must be JSON-like, got {type(obj).__name__}")


def canonical_json(params: Mapping[str, Any]) -> str:
    """Deterministic JSON text of ``params`` (sorted keys, no spaces; tuples become lists)."""
    return json.dumps(
        params, sort_keys=True, separators=(",", ":"), default=_json_default, allow_nan=True
    )


def cache_key(name: str, version: int | str, params: Mapping[str, Any]) -> str:
    """``<name>-v<version>-<first 16 hex digits of sha256(canonical JSON of params)>``."""
    if not name or any(c in name for c in "/\\ "):
        raise ValueError(f"cache name must be a non-empty word without slashes, got {name!r}")
    digest = hashlib.sha256(canonical_json(params).encode()).hexdigest()[:16]
    return f"{name}-v{version}-{digest}"


def arrays_sha256(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``arrays`` (sorted by name)."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_npz_atomic(path: str | os.PathLike, arrays: Mapping[str, Any]) -> Path:
    """Write ``arrays`` (+ their checksum) to ``path`` atomically: temp file, fsync, os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {str(k): np.asarray(v) for k, v in arrays.items()}
    if _CHECKSUM_KEY in data:
        raise ValueError(f"array name {_CHECKSUM_KEY!r} is reserved")
    for key, a in data.items():
        if a.dtype == object:
            raise ValueError(
                f"array {key!r} has dtype object; only numeric/string arrays can be cached"
            )
    data[_CHECKSUM_KEY] = np.array(arrays_sha256(data))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **data)
    return path


def load_npz_checked(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load a file written by :func:`save_npz_atomic`; ``CacheError`` if unreadable or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise CacheError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise CacheError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    stored = data.pop(_CHECKSUM_KEY, None)
    if stored is None:
        raise CacheError(f"{path}: no checksum stored (not written by reprokit)")
    if str(stored) != arrays_sha256(data):
        raise CacheError(f"{path}: checksum mismatch (file corrupted)")
    return data


def cached_npz(
    name: str,
    version: int | str,
    params: Mapping[str, Any],
    build: Callable[[], Mapping[str, Any]],
    *,
    root: str | os.PathLike | None = None,
) -> dict[str, np.ndarray]:
    """Return the arrays cached under ``cache_key(name, version, params)``, building them if needed.

    ``build()`` returns a mapping ``{array_name: array}``; it runs when the file is missing,
    unreadable, truncated or fails its checksum (a warning says so), and its result is
    written atomically to ``<root or data_dir()>/generated/<key>.npz``.
    """
    base = Path(root) if root is not None else data_dir()
    path = base / "generated" / f"{cache_key(name, version, params)}.npz"
    if path.exists():
        try:
            return load_npz_checked(path)
        except CacheError as e:
            warnings.warn(f"rebuilding cache entry: {e}", RuntimeWarning, stacklevel=2)
    arrays = build()
    if not isinstance(arrays, Mapping) or not arrays:
        raise TypeError(f"build() for {name!r} must return a non-empty dict of arrays")
    save_npz_atomic(path, arrays)
    return {str(k): np.asarray(v) for k, v in arrays.items()}
