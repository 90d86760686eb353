import torch
from damc.configs import ToyConfig
from damc.toy import PinwheelPrior, ToyModel, mmd2, train_toy_amortizer


def test_pinwheel_density_normalises_and_matches_its_samples():
    prior = PinwheelPrior()
    g = torch.linspace(-6, 6, 241)
    Z = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    mass = prior.log_prob(Z).exp().sum() * (g[1] - g[0]) ** 2
    assert abs(float(mass) - 1.0) < 0.01
    gen = torch.Generator().manual_seed(0)
    z = prior.sample(4000, gen)
    # samples sit where the density is: mean log-density of samples ≈ ∫ p log p on the grid
    p = prior.log_prob(Z).exp()
    neg_entropy = (p * prior.log_prob(Z)).sum() * (g[1] - g[0]) ** 2
    assert abs(float(prior.log_prob(z).mean() - neg_entropy)) < 0.1


def test_arm_labels_follow_the_mixture():
    prior = PinwheelPrior()
    gen = torch.Generator().manual_seed(0)
    z = prior.sample(2000, gen)
    arms = prior.arm(z)
    assert 0.4 < arms.float().mean().item() < 0.6
    assert torch.equal(prior.arm(prior.means), torch.arange(2).repeat_interleave(16))


def test_mmd_separates_distributions():
    gen = torch.Generator().manual_seed(0)
    prior = PinwheelPrior()
    a, b = prior.sample(800, gen), prior.sample(800, gen)
    assert abs(mmd2(a, b)) < 0.01
    assert mmd2(a, torch.randn(800, 2)) > 0.1


def test_amortized_initialisation_beats_noise_initialisation():
    """After brief DAMC training, q_φ(z|x) + 5 Langevin steps is closer to the pooled
    posterior (= the prior) than N(0, I) + the same 5 steps."""
    tc = ToyConfig(
        iterations=25,
        batch_size=128,
        post_steps=20,
        warmup=10,
        q_lr=2e-3,
        diffusion_steps=10,
        hidden=32,
        ema_every=5,
    )
    model = ToyModel(0, tc.sigma)
    Q, _, _ = train_toy_amortizer(model, tc, seed=0)
    gen = torch.Generator().manual_seed(1)
    _, x = model.sample_joint(1000, gen)
    z_ref = model.prior.sample(1000, gen)
    torch.manual_seed(0)
    z_q = model.chain(Q.sample(x), x, 5, tc.step_size)
    z_n = model.chain(torch.randn(1000, 2), x, 5, tc.step_size)
    assert mmd2(z_q, z_ref) < 0.5 * mmd2(z_n, z_ref)


def test_grid_posterior_normalises_and_its_samples_match_it():
    from damc.toy import _grid_samples, grid_posterior

    model = ToyModel(0, 0.25)
    gen = torch.Generator().manual_seed(0)
    z_true, x = model.sample_joint(6, gen)
    grid, post, h = grid_posterior(model, x)
    assert torch.allclose(post.sum(1), torch.ones(6), atol=1e-5)
    # the grid's MAP cell fits x at least as well as the z that generated x (up to a cell)
    best = grid[post.argmax(1)]
    assert float((model.G(best) - x).pow(2).sum(1).mean()) < float(
        (model.G(z_true) - x).pow(2).sum(1).mean() + 0.5
    )
    w = post @ (model.prior.arm(grid) == 0).float()
    z = _grid_samples(grid, post, h, 4000, gen)
    w_hat = (model.prior.arm(z) == 0).float().view(6, 4000).mean(1)
    assert float((w_hat - w).abs().max()) < 0.04


def test_per_x_arm_error_exact_floor_is_below_a_wrong_sampler():
    """The exact sampler scores the floor; a sampler pinned to one arm scores far worse."""
    from damc.toy import build_toy_amortizer, grid_posterior, per_x_arm_errors

    model = ToyModel(1, 0.25)
    gen = torch.Generator().manual_seed(0)
    _, x = model.sample_joint(16, gen)
    grid, post, _ = grid_posterior(model, x)
    w = post @ (model.prior.arm(grid) == 0).float()
    tc = ToyConfig(per_x_obs=16, per_x_samples=64, diffusion_steps=4, hidden=8, longrun_steps=5)

    errs = per_x_arm_errors(model, build_toy_amortizer(tc), tc, seed=0)
    assert errs["exact"] < 0.1
    assert float((1.0 - w).abs().mean()) > errs["exact"] + 0.1  # "always arm 0"
