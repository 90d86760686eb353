import torch
from damc.langevin import langevin, posterior_chain, prior_chain
from damc.model import EnergyPrior, LatentEBM, MLPGenerator


def _ebm(nz=3, sigma=0.5):
    torch.manual_seed(0)
    return LatentEBM(MLPGenerator(nz, (1, 2, 2), 8), EnergyPrior(nz, 8), sigma)


def test_noise_free_step_lowers_quadratic_energy():
    A = torch.diag(torch.tensor([1.0, 4.0]))
    energy = lambda z: 0.5 * torch.einsum("bi,ij,bj->b", z, A, z)  # noqa: E731
    z = torch.randn(64, 2) * 3
    z1 = langevin(z, energy, 1, step_size=0.3, with_noise=False)
    assert (energy(z1) < energy(z)).all()
    # the update is exactly z - ½δ²∇U
    assert torch.allclose(z1, z - 0.5 * 0.09 * z @ A, atol=1e-6)


def test_langevin_samples_a_gaussian():
    torch.manual_seed(0)
    mu, s = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 1.5])
    energy = lambda z: (0.5 * ((z - mu) / s) ** 2).sum(1)  # noqa: E731
    z = langevin(torch.zeros(4000, 2), energy, 400, step_size=0.2)
    assert torch.allclose(z.mean(0), mu, atol=0.08)
    assert torch.allclose(z.std(0), s, rtol=0.08)


def test_prior_and_posterior_chains_lower_their_energies():
    ebm = _ebm()
    z = torch.randn(32, 3) * 2
    x = torch.rand(32, 1, 2, 2) * 2 - 1
    zp = prior_chain(ebm, z, 5, 0.1, with_noise=False)
    assert ebm.prior_energy(zp).mean() < ebm.prior_energy(z).mean()
    zq = posterior_chain(ebm, z, x, 5, 0.1, with_noise=False)
    assert ebm.posterior_energy(zq, x).mean() < ebm.posterior_energy(z, x).mean()
    assert not zq.requires_grad


def test_posterior_energy_formula():
    ebm = _ebm(sigma=0.3)
    z, x = torch.randn(5, 3), torch.rand(5, 1, 2, 2)
    want = ((ebm.G(z) - x) ** 2).flatten(1).sum(1) / (2 * 0.09) + ebm.E(z) + 0.5 * (z**2).sum(1)
    assert torch.allclose(ebm.posterior_energy(z, x), want, atol=1e-5)
