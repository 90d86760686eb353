"""Tests for reprokit.proxy: the digits MLP, its features and proxy-FID."""

from __future__ import annotations

import numpy as np
import pytest

from reprokit.datasets import load_digits
from reprokit.proxy import ProxyFeatureNet, proxy_fid, to_flat8x8


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("proxy_cache")


@pytest.fixture(scope="module")
def net(cache_dir) -> ProxyFeatureNet:
    return ProxyFeatureNet.load_or_train(cache_dir=cache_dir)


def test_accuracy_and_cache(net, cache_dir):
    x, y = load_digits(8, "test")
    acc = float((net.predict(x) == y).mean())
    assert acc > 0.9
    assert acc == pytest.approx(net.test_accuracy)
    files = list((cache_dir / "generated").glob("proxy_mlp-v1-*.npz"))
    assert len(files) == 1
    again = ProxyFeatureNet.load_or_train(cache_dir=cache_dir)  # from the cache
    np.testing.assert_array_equal(again.features(x), net.features(x))


def test_cache_key_includes_sklearn_version(cache_dir, monkeypatch):
    import sklearn

    from reprokit import proxy

    seen = {}

    def fake_cached_npz(name, version, params, build, root=None):
        seen.update(params)
        raise RuntimeError("stop")

    monkeypatch.setattr(proxy, "cached_npz", fake_cached_npz)
    with pytest.raises(RuntimeError):
        ProxyFeatureNet.load_or_train(cache_dir=cache_dir)
    assert seen["sklearn"] == sklearn.__version__


def test_features_deterministic_and_shapes(net):
    x, _ = load_digits(8, "test")
    f = net.features(x)
    assert f.shape == (len(x), 64) and net.dim == 64
    assert (f >= 0).all() and f.std() > 0
    np.testing.assert_array_equal(f, net.features(x))
    np.testing.assert_allclose(net.features(x[:, 0]), f)
    np.testing.assert_allclose(net.features(x.reshape(len(x), 64)), f)
    p = net.predict_proba(x[:5])
    assert p.shape == (5, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_manual_forward_matches_sklearn_layout(net):
    x, _ = load_digits(8, "test")
    h = x.reshape(len(x), 64).astype(np.float64)
    for W, b in zip(net.Ws[:-1], net.bs[:-1]):
        h = np.maximum(h @ W + b, 0)
    np.testing.assert_allclose(net.features(x), h)
    assert [W.shape for W in net.Ws] == [(64, 128), (128, 64), (64, 10)]


@pytest.mark.parametrize("size", [16, 32])
def test_larger_images_pooled(net, size):
    x, y = load_digits(size, "test")
    assert net.features(x).shape == (len(x), 64)
    assert (net.predict(x) == y).mean() > 0.85
    up = np.repeat(np.repeat(load_digits(8, "test")[0], size // 8, axis=2), size // 8, axis=3)
    np.testing.assert_allclose(to_flat8x8(up), load_digits(8, "test")[0].reshape(-1, 64), atol=1e-6)


def test_bad_inputs(net):
    with pytest.raises(ValueError, match="multiple of 8"):
        net.features(np.zeros((2, 10, 10)))
    with pytest.raises(ValueError, match="1-channel"):
        net.features(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        net.features(np.full((2, 8, 8), 16.0))
    with pytest.raises(ValueError, match="s\\*s"):
        net.features(np.zeros((2, 63)))


def test_proxy_fid_orders_sets(net):
    x_tr, _ = load_digits(8, "train")
    x_te, _ = load_digits(8, "test")
    noise = np.random.default_rng(0).uniform(-1, 1, size=x_te.shape)
    near = proxy_fid(x_te, x_tr, net=net)
    far = proxy_fid(x_te, noise, net=net)
    assert near < 10.0
    assert far > 10 * near


def test_core_modules_do_not_import_torch_or_jax():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import reprokit.cache, reprokit.datasets, reprokit.fid, reprokit.proxy\n"
        "import reprokit.prdc, reprokit.offline_rl, reprokit.text\n"
        "bad = [m for m in ('torch', 'jax') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
