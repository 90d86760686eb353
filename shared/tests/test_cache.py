"""Tests for reprokit.cache: keys, atomic writes, corrupt files rebuilt."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from reprokit import cache
from reprokit.cache import CacheError, cache_key, cached_npz, data_dir, load_npz_checked


@pytest.fixture
def data_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "data"
    monkeypatch.setenv("REPROKIT_DATA", str(root))
    return root


def test_data_dir_env_and_default(tmp_path, monkeypatch):
    monkeypatch.setenv("REPROKIT_DATA", str(tmp_path / "x"))
    assert data_dir() == tmp_path / "x"
    assert (tmp_path / "x").is_dir()
    monkeypatch.delenv("REPROKIT_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".cache" / "reprokit"


def test_cache_key_canonical():
    k1 = cache_key("sprites", 1, {"n": 10, "seed": 0, "shape": (2, 3)})
    k2 = cache_key("sprites", 1, {"shape": [2, 3], "seed": 0, "n": 10})
    assert k1 == k2
    assert k1.startswith("sprites-v1-")
    assert cache_key("sprites", 2, {"n": 10, "seed": 0, "shape": (2, 3)}) != k1
    assert cache_key("sprites", 1, {"n": 11, "seed": 0, "shape": (2, 3)}) != k1
    assert cache_key("blobs", 1, {"n": 10, "seed": 0, "shape": (2, 3)}) != k1
    assert cache_key("s", 1, {"a": np.int64(3)}) == cache_key("s", 1, {"a": 3})
    with pytest.raises(ValueError):
        cache_key("a/b", 1, {})


def _counting_build(counter: list[int]):
    def build():
        counter.append(1)
        rng = np.random.default_rng(0)
        return {"x": rng.normal(size=(50, 4)).astype(np.float32), "y": np.arange(50)}

    return build


def test_cached_npz_builds_once_and_is_atomic(data_root):
    calls: list[int] = []
    a = cached_npz("toy", 1, {"n": 50}, _counting_build(calls))
    b = cached_npz("toy", 1, {"n": 50}, _counting_build(calls))
    assert len(calls) == 1
    np.testing.assert_array_equal(a["x"], b["x"])
    np.testing.assert_array_equal(a["y"], b["y"])
    assert b["x"].dtype == np.float32
    files = list((data_root / "generated").iterdir())
    assert [f.name for f in files] == [cache_key("toy", 1, {"n": 50}) + ".npz"]
    cached_npz("toy", 1, {"n": 51}, _counting_build(calls))
    assert len(calls) == 2  # new params -> new entry


def test_truncated_file_rebuilt(data_root):
    calls: list[int] = []
    cached_npz("toy", 1, {"n": 50}, _counting_build(calls))
    path = data_root / "generated" / (cache_key("toy", 1, {"n": 50}) + ".npz")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CacheError):
        load_npz_checked(path)
    with pytest.warns(RuntimeWarning, match="rebuilding"):
        out = cached_npz("toy", 1, {"n": 50}, _counting_build(calls))
    assert len(calls) == 2
    assert out["x"].shape == (50, 4)
    assert load_npz_checked(path)["x"].shape == (50, 4)


def test_checksum_mismatch_rebuilt(data_root):
    calls: list[int] = []
    cached_npz("toy", 1, {"n": 50}, _counting_build(calls))
    path = data_root / "generated" / (cache_key("toy", 1, {"n": 50}) + ".npz")
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    data["x"] = data["x"] + 1.0  # valid npz, stale checksum
    with open(path, "wb") as f:
        np.savez(f, **data)
    with pytest.raises(CacheError, match="checksum"):
        load_npz_checked(path)
    with pytest.warns(RuntimeWarning):
        out = cached_npz("toy", 1, {"n": 50}, _counting_build(calls))
    assert len(calls) == 2
    np.testing.assert_array_equal(out["x"], _counting_build([])()["x"])


def test_failed_build_leaves_no_file(data_root):
    def bad():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cached_npz("toy", 1, {}, bad)
    gen = data_root / "generated"
    assert not gen.exists() or not any(gen.iterdir())


def test_interrupted_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "a.npz"
    cache.save_npz_atomic(path, {"x": np.arange(3)})

    def failing_savez(f, **kw):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.np, "savez", failing_savez)
    with pytest.raises(KeyboardInterrupt):
        cache.save_npz_atomic(path, {"x": np.arange(5)})
    monkeypatch.undo()
    np.testing.assert_array_equal(load_npz_checked(path)["x"], np.arange(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]  # temp file removed


def test_not_a_zip(tmp_path):
    p = tmp_path / "junk.npz"
    p.write_bytes(b"hello")
    with pytest.raises(CacheError, match=r"junk\.npz"):
        load_npz_checked(p)
    assert not zipfile.is_zipfile(p)
