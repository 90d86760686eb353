"""The MuJoCo components: expert, learned transition, vector-action MLE, Langevin, BCO, claims."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from lanmdp import imitation
from lanmdp.bco import BCO
from lanmdp.dynamics import TransitionModel
from lanmdp.imitation_claims import build_evidence, claims, gates
from lanmdp.latent_policy import (
    ChainSpec,
    MLESpec,
    StateActionEnergy,
    act,
    mle_loss,
    prior_sample,
)
from lanmdp.mle import contrastive_loss, effective_sample_size, posterior_error_ratio
from lanmdp.reacher import Transitions, rollout, scripted_expert, zero_policy

S, A = 10, 2


def linear_system(n: int, seed: int = 0, policy: bool = False) -> Transitions:
    """s' = s + B a (one fixed B) with random s, drawn from ``seed``; a ~ U[−1, 1]², or with
    ``policy`` a demonstrator's a = 0.8·tanh(s W) (a function of the state)."""
    fixed = np.random.default_rng(123)
    B, W = fixed.normal(size=(A, S)), fixed.normal(size=(S, A)) / np.sqrt(S)
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, S))
    a = 0.8 * np.tanh(s @ W) if policy else rng.uniform(-1, 1, (n, A))
    return Transitions(*(x.astype(np.float32) for x in (s, a, s + a @ B)))


def test_scripted_expert_beats_zero_torque_on_reacher() -> None:
    """The positive control of the task: IK + PD reaches the target, doing nothing does not."""
    expert = rollout(scripted_expert(0.5, 0.1), 4, seed=7)
    still = rollout(zero_policy, 4, seed=7)
    assert expert.states.shape == (4, 51, S) and expert.actions.shape == (4, 50, A)
    assert expert.returns.mean() > still.returns.mean() + 2.0


def test_transition_model_learns_a_known_linear_transition() -> None:
    """Fitted by MSE, g_β predicts held-out s' (standardised error ≪ 1) and its likelihood
    prefers the true action to a wrong one."""
    torch.manual_seed(0)
    model = TransitionModel(S, A, hidden=32, layers=2)
    model.fit(linear_system(2000), steps=600, batch=128, lr=3e-3)
    test = linear_system(500, seed=1)
    assert model.standardised_error(test) < 0.05
    s, a, s_next = (torch.as_tensor(v[:100]) for v in test.astuple())
    right = model.log_lik(s_next, s, a, sigma=0.1)
    wrong = model.log_lik(s_next, s, -a, sigma=0.1)
    assert (right > wrong).float().mean() > 0.95


def test_effective_sample_size_runs_from_one_to_n() -> None:
    assert effective_sample_size(torch.ones(3, 8)).allclose(torch.full((3,), 8.0))
    one_hot = torch.zeros(3, 8)
    one_hot[:, 2] = 8.0
    assert effective_sample_size(one_hot).allclose(torch.ones(3))


def test_posterior_ratio_with_vector_actions() -> None:
    """Weights on the samples nearest the hidden action give a ratio < 1; uniform ones 1."""
    a_true = torch.zeros(1, 5, A)
    a = torch.stack([torch.full((1, 5, A), 0.1), torch.full((1, 5, A), 0.9)], dim=2)
    near = torch.tensor([2.0, 0.0]).expand(1, 5, 2)
    assert posterior_error_ratio(a, near, a_true).item() == pytest.approx(0.1 / 0.5)
    assert abs(posterior_error_ratio(a, torch.ones(1, 5, 2), a_true).item() - 1.0) < 1e-6


def test_gradient_penalty_takes_the_infinity_norm_of_vector_actions() -> None:
    """(‖∇_a f‖_∞ − 2)_+²: zero for slopes ≤ 2 in every coordinate, positive beyond."""
    a, w = torch.zeros(1, 4, 3, A), torch.ones(1, 4, 3)
    slope = torch.tensor([1.5, -1.9])
    flat = contrastive_loss(lambda x: (x * slope).sum(-1), a, w, 0.0, grad_penalty=1.0)
    steep = contrastive_loss(lambda x: (x * 3 * slope).sum(-1), a, w, 0.0, grad_penalty=1.0)
    assert flat.item() == pytest.approx(0.0, abs=1e-7)
    assert steep.item() == pytest.approx((5.7 - 2.0) ** 2, rel=1e-5)  # max |3·slope| = 5.7


def test_chain_step_sizes_follow_the_official_schedule() -> None:
    steps = ChainSpec(40, 0.1, 0.3, eta_max=10.0, eta_min=1.0).step_sizes()
    assert len(steps) == 40 and steps[0] == pytest.approx(5.0)
    assert steps[-1] == pytest.approx(0.5 * (9.0 / 40**2 + 1.0))
    assert all(x >= y for x, y in itertools.pairwise(steps))


class Quadratic(StateActionEnergy):
    """f(s, a) = −0.1·‖a − c‖²: its prior concentrates at c (flat enough for η up to 10)."""

    def __init__(self, c: torch.Tensor) -> None:
        super().__init__(torch.zeros(S), torch.ones(S), A, hidden=4, layers=1)
        self.c = c

    def forward(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return -0.1 * ((a - self.c) ** 2).sum(-1)


def test_prior_sampling_and_execution_find_the_energy_mode() -> None:
    torch.manual_seed(0)
    c = torch.tensor([0.4, -0.3])
    energy, chain = Quadratic(c), ChainSpec(40, 0.02, 0.3, 10.0, 1.0)
    a = prior_sample(energy, torch.zeros(6, S), 8, chain)
    assert a.shape == (6, 8, A) and (a.abs() <= 1.0).all()
    assert (a - c).abs().mean() < 0.05
    executed = act(energy, torch.zeros(6, S), 16, chain, noise=0.0)
    assert executed.shape == (6, A) and (executed - c).abs().max() < 0.05


def test_mle_step_raises_the_energy_of_actions_that_explain_the_next_state() -> None:
    """On a known linear transition, MLE steps with importance weights move the policy's mode
    towards the hidden action; uniform weights (posterior = prior) carry no such signal."""
    torch.manual_seed(0)
    dyn = TransitionModel(S, A, hidden=32, layers=2)
    dyn.fit(linear_system(2000), steps=600, batch=128, lr=3e-3)
    data = linear_system(2000, seed=2, policy=True)  # state-only demonstrations
    s, s_next = torch.as_tensor(data.s), torch.as_tensor(data.s_next)
    chain = ChainSpec(15, 0.02, 0.3, 10.0, 1.0)

    def trained(uniform: bool) -> float:
        torch.manual_seed(1)
        energy = StateActionEnergy(s.mean(0), s.std(0), A, hidden=32, layers=2)
        opt = torch.optim.Adam(energy.parameters(), lr=5e-3)
        spec = MLESpec(8, 0.05, 1e-4, 1e-3, uniform_weights=uniform)
        for _ in range(150):
            idx = torch.randint(len(s), (128,))
            loss, _ = mle_loss(energy, dyn, s[idx], s_next[idx], spec, chain)
            opt.zero_grad()
            loss.backward()
            opt.step()
        a = act(energy, s[:200], 16, chain, noise=0.0)
        return float((a - torch.as_tensor(data.a[:200])).abs().mean())

    informed, uniform = trained(False), trained(True)
    assert informed < 0.3 and informed < uniform - 0.1, (informed, uniform)


def test_bco_inverse_model_recovers_actions_of_a_known_transition() -> None:
    torch.manual_seed(0)
    model = BCO(S, A, inverse_size=(32, 2), policy_size=(16, 2))
    model.fit_inverse(linear_system(2000), steps=600, batch=128, lr=3e-3)
    test = linear_system(500, seed=1)
    assert model.inverse_error(test) < 0.25 * np.abs(test.a).mean()


def _per_seed(**override: list[float]) -> dict[str, list[float]]:
    """Per-seed metrics of a run in which every gate passes and LanMDP beats BCO."""
    good = {
        "return/expert": [-4.0, -4.2, -3.9],
        "return/zero": [-10.0, -11.0, -10.5],
        "return/random": [-43.0, -42.0, -44.0],
        "return/bc_actions": [-6.0, -6.5, -6.2],
        "return/lanmdp": [-5.0, -5.2, -5.1],
        "return/lanmdp_uniform": [-30.0, -31.0, -29.0],
        "return/bco": [-7.0, -7.5, -7.2],
        "dyn_err/heldout_demos": [0.001, 0.002, 0.001],
        "ess_frac/lanmdp": [0.4, 0.45, 0.42],
        "post_ratio/lanmdp": [0.6, 0.62, 0.61],
        "inv_ratio/bco": [0.2, 0.21, 0.22],
    }
    return good | override


def _verdicts(per_seed: dict[str, list[float]]) -> dict[str, str]:
    doc = build_evidence("test", [0, 1, 2], per_seed).to_dict(1.0)
    return {x["id"]: x["verdict"] for x in [*doc["gates"], *doc["claims"]]}


def test_claims_hold_when_every_gate_passes() -> None:
    v = _verdicts(_per_seed())
    assert all(v[g.id] == "held" for g in gates())
    assert all(v[c.id] == "held" for c in claims())


@pytest.mark.parametrize(
    ("metric", "values", "untestable"),
    [
        ("dyn_err/heldout_demos", [0.3, 0.4, 0.5], {"C1", "C2", "C3"}),
        ("ess_frac/lanmdp", [0.13, 0.12, 0.14], {"C1", "C2", "C3"}),
        ("inv_ratio/bco", [0.9, 1.1, 1.0], {"C1", "C4"}),
        ("return/expert", [-12.0, -12.5, -12.2], {"C1", "C2", "C3", "C4"}),
    ],
)
def test_a_failed_gate_makes_its_claims_untestable(metric, values, untestable) -> None:
    v = _verdicts(_per_seed(**{metric: values}))
    assert {c.id for c in claims() if v[c.id] == "untestable"} == untestable


def test_env_seeds_are_disjoint_across_seeds_and_batches() -> None:
    names = ("demos", "random", "heldout", "eval")
    got = [imitation.env_seed(s, n) for s in range(3) for n in names]
    got += [imitation.env_seed(s, "round", r) for s in range(3) for r in range(50)]
    assert len(set(got)) == len(got)
