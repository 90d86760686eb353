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
    Q, _ = train_toy_amortizer(model, tc, seed=0)
    gen = torch.Generator().manual_seed(1)
    _, x = model.sample_joint(1000, gen)
    z_ref = model.prior.sample(1000, gen)
    torch.manual_seed(0)
    z_q = model.chain(Q.sample(x), x, 5, tc.step_size)
    z_n = model.chain(torch.randn(1000, 2), x, 5, tc.step_size)
    assert mmd2(z_q, z_ref) < 0.5 * mmd2(z_n, z_ref)
