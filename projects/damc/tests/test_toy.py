"""The toy's model, exact grid posterior, per-x and joint metrics, and amortizer training."""

import math
from dataclasses import replace

import pytest
import torch
from damc.configs import ToyConfig
from damc.toy import (
    PinwheelPrior,
    ToyModel,
    build_toy_amortizer,
    grid_posterior,
    grid_samples,
    max_jacobian_norm,
    mmd2,
    mmd2_batched,
    per_x_metrics,
    train_toy_amortizer,
)

TINY = ToyConfig(per_x_obs=12, per_x_samples=48, diffusion_steps=4, hidden=8, longrun_steps=5)


def test_pinwheel_density_normalises_and_matches_its_samples():
    prior = PinwheelPrior()
    g = torch.linspace(-6, 6, 241)
    Z = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    mass = prior.log_prob(Z).exp().sum() * (g[1] - g[0]) ** 2
    assert abs(float(mass) - 1.0) < 0.01
    z = prior.sample(4000, torch.Generator().manual_seed(0))
    # samples sit where the density is: mean log-density of samples ≈ ∫ p log p on the grid
    p = prior.log_prob(Z).exp()
    neg_entropy = (p * prior.log_prob(Z)).sum() * (g[1] - g[0]) ** 2
    assert abs(float(prior.log_prob(z).mean() - neg_entropy)) < 0.1


def test_pinwheel_arms_turn_like_the_official_sampler():
    """Row-vector rotation features · R(θ) (official): the arms turn clockwise with radius."""
    prior = PinwheelPrior()
    arm0 = prior.means[:16]  # arm 0, radius increasing
    angle = torch.atan2(arm0[:, 1], arm0[:, 0])
    assert bool((angle[1:] < angle[:-1]).all())
    assert torch.equal(prior.arm(prior.means), torch.arange(2).repeat_interleave(16))


def test_residual_generator_has_the_requested_lipschitz_constant():
    model = ToyModel(0, ToyConfig(generator="residual", g_lipschitz=0.8))
    assert max_jacobian_norm(lambda z: model.G(z) - z) == pytest.approx(0.8, rel=1e-4)


def test_grid_posterior_normalises_and_matches_the_linear_gaussian_case():
    """x = a z + σε with z ~ N(0, 1) per coordinate: p(z|x) = N(a x/(a² + σ²), σ²/(a² + σ²))."""
    a, sigma = 0.7, 0.3
    model = ToyModel(0, ToyConfig(target_prior="gaussian", sigma=sigma))
    model.G = lambda z: a * z
    x = torch.tensor([[0.5, -1.0], [1.5, 0.2]])
    grid, post, h = grid_posterior(model, x)
    assert torch.allclose(post.sum(1), torch.ones(2), atol=1e-5)
    mean = post @ grid  # (2, 2)
    var = post @ grid.pow(2) - mean.pow(2)
    assert torch.allclose(mean, a * x / (a**2 + sigma**2), atol=1e-3)
    assert torch.allclose(var, torch.full((2, 2), sigma**2 / (a**2 + sigma**2)), atol=1e-3)
    z = grid_samples(grid, post, h, 4000, torch.Generator().manual_seed(0)).view(2, 4000, 2)
    assert torch.allclose(z.mean(1), mean, atol=0.03)


def test_mmd_separates_distributions_and_batches_agree():
    gen = torch.Generator().manual_seed(0)
    prior = PinwheelPrior()
    a, b = prior.sample(800, gen), prior.sample(800, gen)
    assert abs(mmd2(a, b)) < 0.01
    assert mmd2(a, torch.randn(800, 2, generator=gen)) > 0.1
    batched = mmd2_batched(torch.stack([a, a]), torch.stack([b, a.flip(0)]))
    assert batched[0] == pytest.approx(mmd2(a, b), abs=1e-5) and abs(float(batched[1])) < 1e-2


def test_per_x_metric_fails_samplers_that_ignore_x():
    """Exact draws score the floor; the prior sampler and exact draws shuffled across the
    observations (right pooled posterior, wrong per x) score far above it."""
    model = ToyModel(1, TINY)
    metrics, samples = per_x_metrics(model, build_toy_amortizer(TINY), TINY, seed=0)
    floor = metrics["mmd_x/exact"]
    assert abs(floor) < 0.02
    assert metrics["mmd_x/prior"] > floor + 0.3
    exact = samples["exact"]
    shuffled = exact[torch.randperm(len(exact), generator=torch.Generator().manual_seed(0))]
    ref = per_x_metrics(model, build_toy_amortizer(TINY), TINY, 0, names=("exact",))[1]["exact"]
    assert float(mmd2_batched(shuffled, ref).mean()) > floor + 0.3
    assert abs(mmd2(shuffled.reshape(-1, 2), ref.reshape(-1, 2))) < 0.02  # pooled: blind
    assert metrics["arm_err/exact"] < 0.1


def test_long_run_langevin_reaches_the_exact_posterior_per_x():
    """The reference gate's mechanism on one seed: 400 steps reach the floor, 20 do not."""
    tc = replace(TINY, per_x_obs=6, per_x_samples=32)
    model = ToyModel(0, tc)
    Q = build_toy_amortizer(tc)
    m_long, _ = per_x_metrics(model, Q, replace(tc, longrun_steps=400), 0, ("exact", "longrun"))
    m_short, _ = per_x_metrics(model, Q, replace(tc, longrun_steps=20), 0, ("longrun",))
    assert m_long["mmd_x/longrun"] < m_long["mmd_x/exact"] + 0.02
    assert m_short["mmd_x/longrun"] > m_long["mmd_x/exact"] + 0.1


def _short_training() -> ToyConfig:
    return ToyConfig(
        iterations=25,
        batch_size=128,
        post_steps=20,
        warmup=10,
        q_lr=2e-3,
        diffusion_steps=10,
        hidden=32,
        ema_every=5,
        track_every=10,
    )


def test_tracking_never_changes_the_training_run():
    tc = _short_training()
    model = ToyModel(0, tc)
    calls = []

    def track(Q):
        calls.append(per_x_metrics(model, Q, replace(tc, per_x_obs=2), 0, ("damc",))[0])
        return 0.0

    Q_a, loss_a, _ = train_toy_amortizer(model, tc, seed=0)
    Q_b, loss_b, _ = train_toy_amortizer(model, tc, seed=0, track=track)
    assert calls and loss_a == loss_b
    assert all(torch.equal(p, q) for p, q in zip(Q_a.parameters(), Q_b.parameters(), strict=True))


def test_amortized_initialisation_beats_noise_initialisation_per_x():
    """After brief DAMC training, q_φ(z|x) + 5 Langevin steps is closer to the exact posterior
    per x than N(0, I) + the same 5 steps."""
    tc = _short_training()
    model = ToyModel(0, tc)
    Q, _, _ = train_toy_amortizer(model, tc, seed=0)
    ev = replace(tc, per_x_obs=8, per_x_samples=32, shortrun_steps=5)
    metrics, _ = per_x_metrics(model, Q, ev, seed=0, names=("damc", "shortrun"))
    assert metrics["mmd_x/damc"] < 0.5 * metrics["mmd_x/shortrun"]
    assert math.isfinite(metrics["arm_err/damc"])
