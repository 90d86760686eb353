"""reprokit.jax_utils: a data mesh over 2 faked CPU devices, atomic pytree checkpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy

from reprokit.jax_utils import (  # noqa: E402
    CheckpointError,
    data_mesh,
    load_pytree,
    save_pytree,
    shard_batch,
)


def test_two_device_mesh_in_subprocess(tmp_path):
    # The device-count flag goes first: XLA stops reading flags at the bare token
    # "intra_op_parallelism_threads=1" that this repository's XLA_FLAGS carries.
    flags = "--xla_force_host_platform_device_count=2 " + os.environ.get("XLA_FLAGS", "")
    env = {**os.environ, "XLA_FLAGS": flags.strip(), "JAX_PLATFORMS": "cpu"}
    script = str(Path(__file__).parent / "_jax_mesh.py")
    cmd = [sys.executable, script, str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["n_devices"] == 2 and out["mesh_axes"] == ["data"]
    assert out["devices_of_x"] == 2 and out["shards"] == [[4, 3], [4, 3]]
    assert out["sharded"] == pytest.approx(out["plain"], rel=1e-6)
    assert "not divisible" in out["uneven"] and "'x'" in out["uneven"]
    assert out["roundtrip"]


def test_single_device_mesh_and_errors():
    mesh = data_mesh()
    assert mesh.axis_names == ("data",) and mesh.size == len(jax.devices())
    b = shard_batch(np.zeros((4, 2)), mesh)
    assert b.shape == (4, 2)
    with pytest.raises(ValueError, match="not divisible"):
        shard_batch({"s": np.float32(1.0)}, mesh)  # a scalar has no leading axis


def test_pytree_roundtrip(tmp_path):
    key = jax.random.key(3)
    tree = {
        "params": {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.zeros(3, jnp.bfloat16)},
        "step": 7,
        "lr": 0.5,
        "key": key,
        "np": np.arange(3),
    }
    path = save_pytree(tmp_path / "ck" / "state.npz", tree)
    assert sorted(os.listdir(path.parent)) == ["state.npz"]
    back = load_pytree(path, tree)
    assert back["step"] == 7 and isinstance(back["step"], int) and back["lr"] == 0.5
    assert np.array_equal(back["params"]["w"], tree["params"]["w"])
    assert back["params"]["b"].dtype == jnp.bfloat16
    assert isinstance(back["np"], np.ndarray)
    assert np.array_equal(jax.random.key_data(back["key"]), jax.random.key_data(key))
    assert jax.random.normal(back["key"]) == jax.random.normal(key)
    assert len(load_pytree(path)) == 6


def test_pytree_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_pytree(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match=r"bad\.npz is corrupt"):
        load_pytree(bad)
    path = save_pytree(tmp_path / "s.npz", {"a": jnp.ones(2)})
    with pytest.raises(CheckpointError, match="does not match"):
        load_pytree(path, {"a": jnp.ones(2), "b": jnp.ones(2)})
    with pytest.raises(CheckpointError, match="shape"):
        load_pytree(path, {"a": jnp.ones(3)})
