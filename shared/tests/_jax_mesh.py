"""Run by test_jax_utils with XLA_FLAGS=--xla_force_host_platform_device_count=2; prints JSON."""

from __future__ import annotations

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from reprokit.jax_utils import data_mesh, load_pytree, replicate, save_pytree, shard_batch


def main(tmp: str) -> None:
    mesh = data_mesh()
    x = np.arange(8 * 3, dtype=np.float32).reshape(8, 3)
    batch = shard_batch({"x": x, "y": np.arange(8)}, mesh)
    shards = [s.data.shape for s in batch["x"].addressable_shards]
    w = replicate(jnp.ones(3), mesh)
    loss = jax.jit(lambda w, b: jnp.mean(b["x"] @ w))
    sharded, plain = float(loss(w, batch)), float(jnp.mean(jnp.asarray(x) @ jnp.ones(3)))
    try:
        shard_batch({"x": np.zeros((3, 2))}, mesh)
        uneven = None
    except ValueError as e:
        uneven = str(e)
    path = save_pytree(f"{tmp}/s.npz", {"x": batch["x"], "w": w})
    back = load_pytree(path, {"x": x, "w": w})
    print(
        json.dumps(
            {
                "n_devices": len(jax.devices()),
                "mesh_axes": list(mesh.axis_names),
                "devices_of_x": len(batch["x"].sharding.device_set),
                "shards": shards,
                "sharded": sharded,
                "plain": plain,
                "uneven": uneven,
                "roundtrip": bool(np.array_equal(back["x"], x)),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
