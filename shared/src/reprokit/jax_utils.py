"""Data parallelism over ``jax.devices()`` and atomic pytree checkpoints (extra ``jax``).

    mesh = data_mesh()                              # 1-D mesh, axis "data"
    batch = shard_batch({"x": x, "y": y}, mesh)     # leading axis split over the devices
    params = replicate(params, mesh)
    loss = jax.jit(loss_fn)(params, batch)          # XLA inserts the cross-device reductions

    save_pytree(ckpt_dir / "state.npz", {"params": params, "opt": opt_state, "step": step})
    state = load_pytree(ckpt_dir / "state.npz", target=template)

Test on CPU with ``XLA_FLAGS=--xla_force_host_platform_device_count=2``. Checkpoints are
plain ``.npz`` (numpy only: no pickle, nothing executes on load), written to a temp file,
fsynced and renamed; the tree structure is checked against ``target`` on load.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from reprokit.atomic import atomic_path
from reprokit.errors import CheckpointError

__all__ = [
    "CheckpointError",
    "data_mesh",
    "load_pytree",
    "replicate",
    "save_pytree",
    "shard_batch",
]


def data_mesh(devices: list[Any] | None = None, axis: str = "data") -> Mesh:
    """A 1-D mesh over ``devices`` (default: all of ``jax.devices()``) with axis ``axis``."""
    devs = np.asarray(devices if devices is not None else jax.devices())
    return Mesh(devs, (axis,))


def shard_batch(tree: Any, mesh: Mesh, axis: str | None = None) -> Any:
    """Place every leaf with its leading axis split over the mesh axis (ValueError if uneven)."""
    axis = axis or mesh.axis_names[0]
    n = mesh.shape[axis]
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        shape = np.shape(leaf)
        if not shape or shape[0] % n:
            name = jax.tree_util.keystr(path) or "batch"
            raise ValueError(
                f"shard_batch: leading dimension of {name} (shape {shape}) is not divisible by "
                f"the {n} devices of mesh axis {axis!r}"
            )
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec(axis)))


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Place a full copy of every leaf on every device of the mesh (parameters, opt state)."""
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def _is_key(x: Any) -> bool:
    dtype = getattr(x, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def save_pytree(path: str | Path, tree: Any) -> Path:
    """Write the leaves of ``tree`` to an ``.npz`` atomically (temp file, fsync, rename).

    Typed PRNG keys are stored as their key data; dtypes numpy cannot name (bfloat16) as raw
    bits; python scalars keep their type.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    arrays: dict[str, np.ndarray] = {}
    meta: list[dict[str, Any]] = []
    for i, leaf in enumerate(leaves):
        m: dict[str, Any] = {"py": type(leaf).__name__ if isinstance(leaf, int | float) else None}
        if _is_key(leaf):
            m["key_impl"] = str(jax.random.key_impl(leaf))
            leaf = jax.random.key_data(leaf)
        a = np.asarray(leaf)
        m["dtype"] = str(a.dtype)
        if a.dtype.kind == "V" or a.dtype.name == "bfloat16":  # ml_dtypes: store the bits
            a = a.view(f"uint{8 * a.dtype.itemsize}")
        arrays[f"leaf_{i}"] = a
        meta.append(m)
    header = {"treedef": str(treedef), "leaves": meta}
    arrays["__meta__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    return path


def load_pytree(path: str | Path, target: Any = None) -> Any:
    """Read a :func:`save_pytree` file; with ``target`` rebuild (and check) its structure.

    Without ``target`` the list of leaves is returned. Leaves become jax arrays, except where
    the target holds numpy arrays or python scalars. Missing, corrupt or mismatching files
    raise :class:`CheckpointError` with one line naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(z["__meta__"].tobytes().decode())
            raw = [z[f"leaf_{i}"] for i in range(len(header["leaves"]))]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or not a reprokit pytree ({type(e).__name__})"
        ) from None
    leaves = []
    for a, m in zip(raw, header["leaves"]):
        if str(a.dtype) != m["dtype"]:
            a = a.view(jnp.dtype(m["dtype"]))
        if m.get("key_impl"):
            leaves.append(jax.random.wrap_key_data(jnp.asarray(a), impl=m["key_impl"]))
        elif m["py"] is not None:
            leaves.append(a.item())
        else:
            leaves.append(a)
    if target is None:
        return [x if not isinstance(x, np.ndarray) else jnp.asarray(x) for x in leaves]
    t_leaves, treedef = jax.tree_util.tree_flatten(target)
    if str(treedef) != header["treedef"] or len(t_leaves) != len(leaves):
        raise CheckpointError(
            f"checkpoint {path} does not match the target structure "
            f"({len(leaves)} leaves saved, {len(t_leaves)} expected)"
        )
    out = []
    for i, (t, x) in enumerate(zip(t_leaves, leaves)):
        if np.shape(t) != np.shape(x):
            raise CheckpointError(
                f"checkpoint {path}: leaf {i} has shape {np.shape(x)}, target {np.shape(t)}"
            )
        keep_np = isinstance(t, np.ndarray) or not isinstance(x, np.ndarray)
        out.append(x if keep_np else jnp.asarray(x))
    return jax.tree_util.tree_unflatten(treedef, out)
