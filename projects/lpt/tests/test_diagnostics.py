"""The G_chain policy distances and the gradient balance of the posterior Langevin (Eq. 5)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import torch
from conftest import tiny_lpt
from lpt.data import Trajectories, to_trajectories
from lpt.diagnostics import chain_movement, gradient_balance
from lpt.evaluate import policy_shift
from lpt.langevin import LatentBuffer, posterior_energy
from test_train import synthetic


def test_gradient_balance_terms_sum_to_the_posterior_gradient():
    """The three norms are those of the pieces of ∇E; the prior piece is ‖z0‖; noise s·√dim."""
    data = synthetic()
    model = tiny_lpt().eval()
    buf = LatentBuffer(data.n, 4, 16, seed=0)
    idx = np.arange(data.n)
    bal = gradient_balance(model, buf, data, idx, s=0.3, sigma_a2=0.05, sigma_y2=0.5)
    assert np.isclose(bal["prior"], float(buf.z0.flatten(1).norm(dim=-1).mean()), rtol=1e-5)
    assert np.isclose(bal["noise"], 0.3 * 8.0)  # dim = 4 x 16 = 64
    # a smaller action variance scales the action gradient up by the same factor
    bal_10 = gradient_balance(model, buf, data, idx, s=0.3, sigma_a2=0.5, sigma_y2=0.5)
    assert np.isclose(bal["action"], 10 * bal_10["action"], rtol=1e-4)
    # the full gradient is bounded by the sum of the pieces (triangle inequality), not by one
    batch = data.batch(idx)
    z0 = buf.get(batch["idx"]).requires_grad_(True)
    (g,) = torch.autograd.grad(posterior_energy(model, z0, batch, 0.05, 0.5).sum(), z0)
    full = float(g.flatten(1).norm(dim=-1).mean())
    assert full <= bal["prior"] + bal["action"] + bal["return"] + 1e-4
    assert full > max(bal["prior"], bal["action"]) * 0.1


def test_chain_movement_detects_trajectory_specific_chains():
    """Identical chains: own-vs-other is 0; chains that are prior draws (collapse): about a prior
    pair; neighbouring chains at two points the decoder tells apart: clearly above a prior pair."""
    data = synthetic(n_traj=64)
    model = tiny_lpt(use_unet=False).eval()  # z = z0: the chains reach the decoder unchanged
    idx = np.arange(data.n)
    buf = LatentBuffer(data.n, 4, 16, seed=0)
    collapsed = chain_movement(model, buf, data, idx, seed=1)
    assert 0.7 < collapsed["own_vs_other"] / collapsed["prior_pair"] < 1.4
    buf.z0 = buf.z0[0].expand_as(buf.z0).clone()
    assert chain_movement(model, buf, data, idx, seed=1)["own_vs_other"] == 0.0
    draws = torch.randn(12, 4, 16, generator=torch.Generator().manual_seed(2))
    n = data.n

    def dist(a: torch.Tensor, b: torch.Tensor) -> float:
        return policy_shift(
            model, data, idx, {"z": a.expand(n, -1, -1)}, {"z": b.expand(n, -1, -1)}
        )

    a, b = max(combinations(draws, 2), key=lambda p: dist(*p))
    buf.z0 = torch.stack([a if i % 2 else b for i in range(n)])  # neighbours alternate a, b
    moved = chain_movement(model, buf, data, idx, seed=1)
    assert moved["own_vs_other"] > 1.2 * moved["prior_pair"]
    assert np.isclose(moved["prior_pair"], collapsed["prior_pair"])  # same prior draws


def synthetic_games(n_traj: int = 6, T: int = 8) -> Trajectories:
    """Short games with one-hot moves over 7 columns and final results in {-1, 0, 1}."""
    rng = np.random.default_rng(0)
    N = n_traj * T
    rewards = np.zeros(N, np.float32)
    rewards[T - 1 :: T] = rng.integers(-1, 2, n_traj)
    arrays = {
        "observations": rng.integers(0, 2, (N, 4)).astype(np.float32),
        "actions": np.eye(7, dtype=np.float32)[rng.integers(0, 7, N)],
        "rewards": rewards,
        "terminals": np.arange(N) % T == T - 1,
        "timeouts": np.zeros(N, bool),
    }
    return to_trajectories(arrays, scale=1.0, discrete=True)


def test_gradient_balance_names_the_dominant_term():
    """Categorical actions (Connect Four): a decoder that cannot read z gives an action gradient
    of exactly 0 against the prior's ‖z0‖ (the collapse the G_chain gate reports); β scales the
    action term linearly; a tiny σ_y² makes the return term dominate the prior."""
    data = synthetic_games()
    model = tiny_lpt(discrete=True, act_dim=7).eval()
    buf = LatentBuffer(data.n, 4, 16, seed=0)
    idx = np.arange(data.n)
    plain = gradient_balance(model, buf, data, idx, s=0.3, sigma_a2=0.5, sigma_y2=0.5)
    tempered = gradient_balance(model, buf, data, idx, 0.3, 0.5, 0.5, ce_weight=10.0)
    assert plain["action"] > 0 and np.isclose(tempered["action"], 10 * plain["action"], rtol=1e-4)
    assert np.isclose(tempered["prior"], plain["prior"]) and tempered["return"] == plain["return"]
    sharp = gradient_balance(model, buf, data, idx, s=0.3, sigma_a2=0.5, sigma_y2=1e-6)
    assert sharp["return"] > 100 * sharp["prior"]
    for block in model.transformer.blocks:  # cross-attention output 0: z never reaches π
        torch.nn.init.zeros_(block.xproj.weight)
        torch.nn.init.zeros_(block.xproj.bias)
    blind = gradient_balance(model, buf, data, idx, s=0.3, sigma_a2=0.5, sigma_y2=0.5)
    assert blind["action"] == 0.0 and blind["prior"] > 5.0
