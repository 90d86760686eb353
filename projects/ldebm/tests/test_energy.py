"""The EBMs: symbol-vector coupling marginal, spectral norm, time table."""

import torch
from ldebm.energy import LatentDiffusionEBM, SVEBMEnergy, marginal_energy, sinusoidal_table
from ldebm.langevin import frozen
from torch import nn
from torch.nn.utils import parametrize


def _ebm(K: int = 5) -> LatentDiffusionEBM:
    torch.manual_seed(0)
    return LatentDiffusionEBM(2, 16, K, 2, T=6, emb_dim=8)


def test_logsumexp_marginal_is_the_sum_over_classes():
    """p(z) ∝ Σ_y exp⟨y, f(z)⟩ p0(z): the marginal energy is log Σ_k exp f_k(z)."""
    ebm = _ebm()
    z, t = torch.randn(7, 2), torch.randint(0, 6, (7,))
    logits = ebm(z, t)
    onehots = torch.eye(5)
    by_sum = torch.log(sum(torch.exp((logits * y).sum(-1)) for y in onehots))
    torch.testing.assert_close(marginal_energy(logits), by_sum)


def test_spectral_norm_on_every_linear_of_ldebm_none_on_svebm():
    ebm = _ebm()
    linears = [m for m in ebm.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 2 + 2 + 1 + 2 + 1  # ze, te, concat_proj, 2 blocks, out
    assert all(parametrize.is_parametrized(m, "weight") for m in linears)
    sv = SVEBMEnergy(2, 200, 16)
    assert not any(parametrize.is_parametrized(m) for m in sv.modules() if isinstance(m, nn.Linear))
    for m in linears:  # the largest singular value is ≈ 1 after a few power iterations
        for _ in range(20):
            w = m.weight
        assert torch.linalg.matrix_norm(w, 2).item() < 1.05


def test_time_table_and_cached_chain_forward_agree():
    ebm = _ebm()
    ebm.eval()  # no power-iteration update between the two forwards
    z, t = torch.randn(9, 2), torch.randint(0, 6, (9,))
    plain = ebm(z, t)
    with frozen(ebm):
        assert ebm.frozen_table is not None and ebm.frozen_table.shape == (6, 16)
        cached = ebm(z, t)
    assert ebm.frozen_table is None
    assert all(p.requires_grad for p in ebm.parameters())
    torch.testing.assert_close(plain, cached)
    table = sinusoidal_table(6, 8)
    assert table.shape == (6, 8) and torch.allclose(table[0, 1::2], torch.ones(4))


def test_ldebm_depends_on_time_svebm_does_not():
    ebm = _ebm()
    z = torch.randn(4, 2)
    a = ebm(z, torch.zeros(4, dtype=torch.long))
    b = ebm(z, torch.full((4,), 5, dtype=torch.long))
    assert not torch.allclose(a, b)
    sv = SVEBMEnergy(2, 8, 3)
    torch.testing.assert_close(sv(z), sv(z, torch.ones(4)))
