"""The diffusion schedule matches the official ``_get_sigma_schedule`` values (note B2)."""

import numpy as np
import pytest
import torch
from ldebm.schedule import make_schedule, noise_factors


def test_official_values_for_T6():
    a_s, sigmas = noise_factors(6)
    np.testing.assert_allclose(a_s, [0.99995, 0.946, 0.856, 0.775, 0.701, 0.634, 0.0228], atol=6e-4)
    np.testing.assert_allclose(
        sigmas, [0.010, 0.324, 0.517, 0.632, 0.713, 0.773, 0.9997], atol=6e-4
    )


def test_segments_are_products_of_sqrt_one_minus_beta():
    betas = np.append(np.linspace(1e-4, 0.02, 1000), 1.0)
    a_s, _ = noise_factors(6)
    # indices [0, 100, 200, 300, 400, 500, 999]: the second factor spans betas 1..100
    assert a_s[1] == pytest.approx(np.prod(np.sqrt(1 - betas[1:101])), rel=1e-12)
    assert a_s[-1] == pytest.approx(np.prod(np.sqrt(1 - betas[501:1000])), rel=1e-12)


def test_cumulative_terms_anchor_and_step_sizes():
    s = make_schedule(6, 2e-3)
    torch.testing.assert_close(s.a_s_cum, torch.cumprod(s.a_s, 0))
    torch.testing.assert_close(s.sigmas_cum, (1 - s.a_s_cum**2).sqrt())
    assert s.a_s_prev[-1] == 1 and s.a_s_prev[2] == s.a_s[2]
    assert s.is_recovery.tolist() == [1, 1, 1, 1, 1, 1, 0]
    steps = s.step_size_sq.sqrt()
    assert len(steps) == 6
    assert steps[0].item() == pytest.approx(0.0145, abs=5e-4)  # note: about 0.015 at t = 0
    assert steps[-1].item() == pytest.approx(0.438, abs=5e-3)  # note: about 0.44 at t = 5
    assert torch.all(steps[1:] > steps[:-1])
    assert s.loss_scale(torch.tensor([0]))[0].item() == pytest.approx(1.0)


def test_too_few_levels_is_refused():
    with pytest.raises(ValueError, match="T >= 2"):
        noise_factors(1)
