"""Tests for reprokit.fid: closed form, independent computation, streaming stats, caching."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from reprokit import fid as fid_mod
from reprokit.fid import GaussianStats, StreamingStats, fid_from_features, frechet_distance


def _random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    A = rng.normal(size=(d, d))
    return A @ A.T / d + 0.1 * np.eye(d)


def _independent_fd(mu1, s1, mu2, s2) -> float:
    """Tr (S1 S2)^{1/2} = Tr (S1^{1/2} S2 S1^{1/2})^{1/2}, via symmetric eigendecompositions."""
    lam, V = np.linalg.eigh(s1)
    r1 = (V * np.sqrt(np.clip(lam, 0, None))) @ V.T
    ev = np.linalg.eigvalsh(r1 @ s2 @ r1)
    tr_sqrt = np.sqrt(np.clip(ev, 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


@pytest.mark.parametrize("d", [1, 8, 64])
def test_closed_form_unit_shift(d):
    mu1, mu2 = np.zeros(d), np.ones(d)
    assert frechet_distance(mu1, np.eye(d), mu2, np.eye(d)) == pytest.approx(d, rel=1e-12)


def test_closed_form_scaled_covariances():
    # N(0, a^2 I) vs N(0, b^2 I): d (a - b)^2
    d, a, b = 10, 2.0, 0.5
    got = frechet_distance(np.zeros(d), a**2 * np.eye(d), np.zeros(d), b**2 * np.eye(d))
    assert got == pytest.approx(d * (a - b) ** 2, rel=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_independent_computation(seed):
    rng = np.random.default_rng(seed)
    d = 32
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_spd(rng, d), _random_spd(rng, d)
    ref = _independent_fd(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-8)


def test_near_singular_covariance_is_finite():
    rng = np.random.default_rng(0)
    d, r = 20, 3
    B = rng.normal(size=(d, r))
    s = B @ B.T  # rank 3
    out = frechet_distance(np.zeros(d), s, np.zeros(d), s)
    assert np.isfinite(out)
    assert abs(out) < 1e-3


def test_offset_applied_when_sqrtm_not_finite(monkeypatch):
    calls = []
    real_sqrtm = linalg.sqrtm

    def flaky_sqrtm(A):
        calls.append(A.copy())
        if len(calls) == 1:
            return np.full_like(A, np.nan)
        return real_sqrtm(A)

    monkeypatch.setattr(fid_mod.linalg, "sqrtm", flaky_sqrtm)
    d, eps = 4, 1e-2
    out = frechet_distance(np.zeros(d), np.eye(d), np.zeros(d), np.eye(d), eps=eps)
    assert len(calls) == 2
    np.testing.assert_allclose(calls[1], (1 + eps) ** 2 * np.eye(d))
    assert out == pytest.approx(2 * d - 2 * d * (1 + eps), rel=1e-9)


def test_large_imaginary_part_is_error():
    # Sigma2 with a negative eigenvalue: sqrtm(diag(-1, 1)) = diag(i, 1)
    with pytest.raises(ValueError, match="imaginary"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.diag([-1.0, 1.0]))


def test_shape_mismatch_is_error():
    with pytest.raises(ValueError, match="covariances"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="mean"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(3))


def test_streaming_equals_batch():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=1e3, scale=2.0, size=(257, 6)) @ rng.normal(size=(6, 6))
    st = StreamingStats()
    for lo, hi in [(0, 1), (1, 100), (100, 100), (100, 257)]:
        st.update(x[lo:hi].astype(np.float32) if lo == 100 else x[lo:hi])
    g = st.finalize()
    x_mixed = np.concatenate([x[:100], x[100:].astype(np.float32).astype(np.float64)])
    assert g.n == 257
    np.testing.assert_allclose(g.mu, x_mixed.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(g.sigma, np.cov(x_mixed, rowvar=False), rtol=1e-9, atol=1e-9)


def test_streaming_errors():
    st = StreamingStats().update(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        st.finalize()
    with pytest.raises(ValueError, match="dim"):
        st.update(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        st.update(np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match=r"\(B, d\)"):
        st.update(np.zeros(3))


def test_fid_from_features_matches_manual():
    rng = np.random.default_rng(1)
    f1, f2 = rng.normal(size=(300, 5)), rng.normal(loc=0.5, size=(200, 5))
    manual = frechet_distance(
        f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False)
    )
    assert fid_from_features(f1, f2) == pytest.approx(manual, rel=1e-9)
    assert fid_from_features(f1, f2) > fid_from_features(f1, rng.normal(size=(300, 5)))


def test_stats_cache_roundtrip_and_validation(tmp_path):
    rng = np.random.default_rng(0)
    g = StreamingStats().update(rng.normal(size=(40, 3))).finalize()
    path = g.save(tmp_path / "stats.npz")
    h = GaussianStats.load(path)
    np.testing.assert_array_equal(h.mu, g.mu)
    np.testing.assert_array_equal(h.sigma, g.sigma)
    assert h.n == 40
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"stats\.npz"):
        GaussianStats.load(path)
    with pytest.raises(ValueError, match="not found"):
        GaussianStats.load(tmp_path / "missing.npz")
    GaussianStats(mu=np.zeros(3), sigma=np.eye(2), n=5).save(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="expected mu"):
        GaussianStats.load(tmp_path / "bad.npz")
