"""The learning rule: λ-returns against a hand-computed case; J equals enumeration; REINFORCE."""

import pytest
import torch
from sketchgame import game as G

W = G.WAIT


def test_lambda_returns_hand_computed() -> None:
    gamma, lam = 0.5, 0.5
    values = torch.tensor([[0.0, 0.4, 0.8], [0.0, 0.4, 0.8]])
    actions = torch.tensor([[W, W, 1], [2, W, W]])
    target = torch.tensor([1, 0])
    r = G.rewards_of(actions, target)
    assert r.tolist() == [[0, 0, 1], [-1, 0, 0]]
    Gt = G.lambda_returns(r, actions != W, values, G.alive_mask(actions), gamma, lam)
    # game 0: G2 = 1; G1 = γ[(1−λ)V2 + λG2] = 0.5(0.4 + 0.5) = 0.45; G0 = 0.5(0.2 + 0.225)
    # game 1: G0 = −1 (wrong guess); it ended there, so G1 = V1, G2 = V2 (official code)
    assert Gt.flatten().tolist() == pytest.approx([0.2125, 0.45, 1.0, -1.0, 0.4, 0.8])


def test_ended_game_values_waiting_by_the_next_value() -> None:
    """After the first guess the actor objective still counts Σ_a π_t(a)Q̂_t(a) (no alive mask),
    with Q̂(wait) = γV_{t+1}, whatever the later sampled actions were."""
    values = torch.tensor([[0.0, 0.3, 0.6]])
    target = torch.tensor([0])
    for later in ([0, 0, 0], [0, W, 1], [0, 2, W]):
        actions = torch.tensor([later])
        Gt = G.lambda_returns(
            G.rewards_of(actions, target), actions != W, values, G.alive_mask(actions), 0.5, 0.9
        )
        q = G.action_values(Gt, target, 0.5)
        assert q[0, 0, W].item() == pytest.approx(0.5 * 0.3)
        assert q[0, 1, W].item() == pytest.approx(0.5 * 0.6)


def test_lambda_one_is_monte_carlo_and_zero_is_td() -> None:
    values = torch.tensor([[0.3, 0.7, 0.1]])
    actions = torch.tensor([[W, W, 0]])
    target = torch.tensor([0])
    r = G.rewards_of(actions, target)
    alive = G.alive_mask(actions)
    mc = G.lambda_returns(r, actions != W, values, alive, 0.9, 1.0)
    td = G.lambda_returns(r, actions != W, values, alive, 0.9, 0.0)
    assert mc[0].tolist() == pytest.approx([0.81, 0.9, 1.0])
    assert td[0].tolist() == pytest.approx([0.9 * 0.7, 0.9 * 0.1, 1.0])


def test_expected_reward_equals_enumeration_one_step() -> None:
    pi = torch.softmax(torch.randn(1, 1, 4), -1)
    q = G.action_values(torch.zeros(1, 1), torch.tensor([2]), 0.85)
    J = G.expected_reward(pi, q)
    enum = sum(float(pi[0, 0, a]) * (1.0 if a == 2 else -1.0) for a in range(3)) - float(
        pi[0, 0, W]
    )
    assert J.item() == pytest.approx(enum)


def test_expected_reward_last_step_term_is_exact_expectation() -> None:
    """With λ = 1 and V unused, the step-t term Σ_a π_t(a)Q̂_t(a) with Q̂(wait) = γG_{t+1} equals
    the enumerated expected return of step t given the sampled continuation."""
    torch.manual_seed(0)
    pi = torch.softmax(torch.randn(1, 2, 4), -1)
    actions = torch.tensor([[W, 0]])  # the sampled continuation guesses slot 0 at step 2
    target = torch.tensor([0])
    gamma = 0.7
    r = G.rewards_of(actions, target)
    Gt = G.lambda_returns(r, actions != W, torch.zeros(1, 2), G.alive_mask(actions), gamma, 1.0)
    q = G.action_values(Gt, target, gamma)
    step0 = (pi[0, 0] * q[0, 0]).sum().item()
    enum = (
        float(pi[0, 0, 0])
        - float(pi[0, 0, 1])
        - float(pi[0, 0, 2])
        + float(pi[0, 0, W]) * gamma * 1.0
    )
    assert step0 == pytest.approx(enum)
    assert (pi * q).sum().item() == pytest.approx(G.expected_reward(pi, q).item())


def test_first_guess_alive_and_discounted_returns() -> None:
    actions = torch.tensor([[W, 1, W], [W, W, W], [0, 2, 1]])
    idx, act = G.first_guess(actions)
    assert idx.tolist() == [1, 3, 0] and act.tolist() == [1, W, 0]
    assert G.alive_mask(actions).tolist() == [[1, 1, 0], [1, 1, 1], [1, 0, 0]]
    r = torch.tensor([[0.0, 1.0, 0.0]])
    R = G.discounted_returns(r, torch.tensor([[1.0, 1.0, 0.0]]), 0.5)
    assert R.tolist() == [[0.5, 1.0, 0.0]]
