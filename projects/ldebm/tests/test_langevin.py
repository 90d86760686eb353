"""Recovery-likelihood Langevin (with the code's 1/s² scaling), progressive sampling, short-run."""

import torch
from ldebm.energy import marginal_energy
from ldebm.langevin import (
    conditional_log_prob,
    progressive_levels,
    recovery_langevin,
    short_run_langevin,
)
from ldebm.schedule import make_schedule
from torch import nn

SCHED = make_schedule(6, 2e-3)


class QuadraticWell(nn.Module):
    """One logit s_t²·(−‖y − c‖² / 2τ²): the level-t conditional is then an exact Gaussian."""

    def __init__(self, c: torch.Tensor, tau: float) -> None:
        super().__init__()
        self.c, self.tau = c, tau

    def forward(self, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        s_sq = SCHED.step_size_sq[t]
        return (s_sq * -((y - self.c) ** 2).sum(-1) / (2 * self.tau**2))[:, None]


def test_conditional_log_prob_is_energy_over_s2_minus_anchor():
    torch.manual_seed(0)
    lin = nn.Linear(2, 3)
    ebm = lambda y, t: lin(y)  # noqa: E731
    y, xt, t = torch.randn(5, 2), torch.randn(5, 2), torch.tensor([0, 1, 2, 4, 5])
    sig = SCHED.sigmas[t + 1][:, None]
    anchor = xt * SCHED.is_recovery[t + 1][:, None]
    literal = marginal_energy(lin(y)) / SCHED.step_size_sq[t] - (
        (y - anchor) ** 2 / (2 * sig**2)
    ).sum(-1)
    torch.testing.assert_close(conditional_log_prob(ebm, SCHED, y, xt, t), literal)
    # top level (t = T−1): no anchor, the reference is N(0, σ_T² I)
    top = torch.full((5,), 5)
    a = conditional_log_prob(ebm, SCHED, y, xt, top)
    b = conditional_log_prob(ebm, SCHED, y, torch.zeros_like(xt), top)
    torch.testing.assert_close(a, b)


def test_recovery_langevin_lowers_the_conditional_energy_and_hits_the_posterior():
    torch.manual_seed(0)
    c, tau, level = torch.tensor([1.0, -1.0]), 0.3, 3
    well = QuadraticWell(c, tau)
    n = 3000
    x_tilde = torch.zeros(n, 2)
    t = torch.full((n,), level)
    y0 = x_tilde.clone()
    x = recovery_langevin(well, SCHED, x_tilde, t, n_steps=300)
    y = x * SCHED.a_s_prev[level + 1]
    e0 = -conditional_log_prob(well, SCHED, y0, x_tilde, t).mean()
    e1 = -conditional_log_prob(well, SCHED, y, x_tilde, t).mean()
    assert e1 < e0 - 1.0
    sig2 = SCHED.sigmas[level + 1] ** 2
    post_mean = (c / tau**2) / (1 / tau**2 + 1 / sig2)  # x̃ = 0
    torch.testing.assert_close(y.mean(0), post_mean, atol=0.03, rtol=0)


def test_progressive_sampling_runs_every_level_from_noise():
    calls = []

    class Spy(nn.Module):
        def forward(self, y, t):
            calls.append(int(t[0]))
            return torch.zeros(len(y), 1) + 0 * y.sum(-1, keepdim=True)

    levels = progressive_levels(Spy(), SCHED, torch.randn(4, 2), n_steps=2)
    assert len(levels) == SCHED.T
    assert all(x.shape == (4, 2) and torch.isfinite(x).all() for x in levels)
    assert calls == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0]


def test_short_run_langevin_on_a_flat_energy_samples_the_reference():
    torch.manual_seed(0)
    flat = nn.Linear(2, 1)
    nn.init.zeros_(flat.weight)
    z = short_run_langevin(flat, torch.randn(4000, 2) * 3, n_steps=200, step_size=0.4)
    assert abs(z.mean().item()) < 0.05
    assert 0.9 < z.var().item() < 1.2  # N(0, I), slightly inflated by the discretisation


def test_ancestral_sampling_of_the_exact_conditionals_sharpens_with_longer_chains():
    from ldebm.evaluate import LevelMix, exact_ancestral, exact_levels
    from ldebm.metrics import precision
    from ldebm.target import grid16

    target = grid16()
    mix = LevelMix(None, exact_levels(target, SCHED, range(SCHED.T)))
    t = torch.full((3,), 2)
    y = torch.randn(3, 2)
    torch.testing.assert_close(mix(y, t), mix.exact["2"](y, t))  # rows go to their level
    torch.manual_seed(0)
    short = precision(target, exact_ancestral(target, SCHED, 500, 5))
    long = precision(target, exact_ancestral(target, SCHED, 500, 200))
    assert short + 0.1 < long  # the level-0 chain relaxes towards the modes with more steps
