"""Tests for reprokit.inception (torch extra): layout, shapes, weight-file checks."""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from reprokit.inception import (  # noqa: E402
    ENV_WEIGHTS,
    FID_WEIGHTS_SHA256,
    FIDInceptionV3,
    InceptionWeightsError,
    file_sha256,
    inception_features,
    load_fid_inception,
)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return FIDInceptionV3().eval()


def test_state_dict_layout(model):
    sd = model.state_dict()
    # the standard pt_inception-2015-12-05 file has 566 entries: 94 conv+bn units x 6 + fc
    assert len(sd) == 566
    assert sum(k.endswith("num_batches_tracked") for k in sd) == 94
    assert sd["fc.weight"].shape == (1008, 2048)
    assert sd["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
    assert sd["Mixed_5b.branch_pool.conv.weight"].shape == (32, 192, 1, 1)
    assert sd["Mixed_6e.branch7x7dbl_5.conv.weight"].shape == (192, 192, 1, 7)
    assert sd["Mixed_7b.branch_pool.conv.weight"].shape == (192, 1280, 1, 1)
    assert sd["Mixed_7c.branch3x3dbl_3b.bn.running_var"].shape == (384,)
    assert model.Mixed_7b.branch1x1.bn.eps == pytest.approx(1e-3)
    # torchvision's inception_v3 without aux logits has 23,834,568 parameters (1000 classes)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 23_834_568 + 8 * 2049


def test_forward_shape(model):
    gray = torch.rand(1, 1, 32, 32) * 2 - 1
    x = torch.cat([gray.repeat(1, 3, 1, 1), torch.rand(1, 3, 32, 32) * 2 - 1])
    with torch.no_grad():
        y = model(x)
        y_gray = model(gray)  # 1-channel input is replicated to RGB
    assert y.shape == (2, 2048)
    assert torch.isfinite(y).all()
    assert (y >= 0).all()  # average of ReLU outputs
    torch.testing.assert_close(y_gray[0], y[0], rtol=1e-4, atol=0.0)  # features are ~1e-8
    with pytest.raises(ValueError, match="N, 3, H, W"):
        model(torch.zeros(1, 2, 8, 8))


def test_pool_variants(model):
    # Mixed_7c max-pools its pool branch, Mixed_7b and the A/C blocks average without padding
    assert model.Mixed_7c.max_pool and not model.Mixed_7b.max_pool
    x = torch.ones(1, 4, 3, 3)
    from reprokit.inception import _avg_pool

    torch.testing.assert_close(_avg_pool(x), x)  # count_include_pad=False keeps borders at 1


def test_load_roundtrip_and_errors(model, tmp_path, monkeypatch):
    path = tmp_path / "w.pth"
    torch.save(model.state_dict(), path)
    digest = file_sha256(path)
    with pytest.raises(InceptionWeightsError, match="does not match the expected") as e:
        load_fid_inception(path)  # default: the standard file's hash
    assert FID_WEIGHTS_SHA256 in str(e.value) and "\n" not in str(e.value)
    net = load_fid_inception(path, sha256=digest)
    assert not net.training
    images = np.random.default_rng(0).uniform(-1, 1, size=(2, 3, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(
        inception_features(net, images, batch_size=1),
        model(torch.from_numpy(images)).detach().double().numpy(),
        rtol=1e-5,
        atol=1e-12,
    )
    with pytest.raises(InceptionWeightsError, match="not found"):
        load_fid_inception(tmp_path / "missing.pth")
    monkeypatch.delenv(ENV_WEIGHTS, raising=False)
    with pytest.raises(InceptionWeightsError, match=ENV_WEIGHTS):
        load_fid_inception()
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(InceptionWeightsError, match="cannot load"):
        load_fid_inception(tmp_path / "junk.pth", sha256=None)
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(InceptionWeightsError, match="472 missing"):
        load_fid_inception(tmp_path / "other.pth", sha256=None)


@pytest.mark.skipif(not os.environ.get(ENV_WEIGHTS), reason=f"{ENV_WEIGHTS} not set")
def test_real_weights():
    net = load_fid_inception()  # checks the standard sha256
    images = np.random.default_rng(0).uniform(-1, 1, size=(2, 3, 64, 64)).astype(np.float32)
    feats = inception_features(net, images)
    assert feats.shape == (2, 2048)
    assert np.isfinite(feats).all() and feats.mean() > 0.01
