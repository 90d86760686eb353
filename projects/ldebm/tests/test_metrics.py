"""Every metric ranks the data above deliberately wrong samplers (note, design risk 3); the grid
checks give a small TV for exact samples and a large one for a wrong sampler."""

import numpy as np
import pytest
import torch
from ldebm import evaluate as ev
from ldebm import metrics as M
from ldebm.schedule import make_schedule
from ldebm.target import grid16, pinwheel, pinwheel_mixture, wrong_samples
from torch import nn

TARGET = grid16()


@pytest.fixture(scope="module")
def sets():
    rng = np.random.default_rng(0)
    ref, _ = TARGET.sample(1000, rng)
    data, _ = TARGET.sample(1000, rng)
    return ref, {"data": data, **wrong_samples(TARGET, 1000, rng)}


def test_target_is_unit_variance_and_separated():
    x, _ = TARGET.sample(200_000, np.random.default_rng(0))
    np.testing.assert_allclose(x.var(0), [1.0, 1.0], rtol=0.02)
    assert TARGET.spacing > 5 * TARGET.sigma and TARGET.n_modes == 16


def test_metrics_fail_the_wrong_samplers(sets):
    ref, s = sets
    bw = {"sigma": TARGET.sigma}
    score = {k: M.sample_metrics(TARGET, x, ref, bw) for k, x in s.items()}
    assert score["data"]["precision"] == pytest.approx(1 - np.exp(-2), abs=0.03)
    for wrong in ("gaussian", "smear", "half_modes"):
        assert score["data"]["mmd_sigma"] < score[wrong]["mmd_sigma"]
    assert score["data"]["precision"] > score["smear"]["precision"] + 0.1
    assert score["data"]["log_density"] > score["smear"]["log_density"]
    assert score["half_modes"]["mode_kl"] == pytest.approx(np.log(2), abs=0.03)
    assert score["data"]["mode_kl"] < 0.02


def test_log_density_is_normalised():
    xs = np.linspace(-3, 3, 301)
    g = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    mass = np.exp(TARGET.log_density(g)).sum() * (xs[1] - xs[0]) ** 2
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_grid_check_on_an_exact_bimodal_conditional():
    sched = make_schedule(6, 2e-3)

    class EC:
        longrun_chains, longrun_steps, grid_bins, check_level = 1200, 120, 8, 2

    chk = ev.analytic_check(TARGET, sched, EC, np.random.default_rng(0))
    assert chk["floor"] < 0.08
    assert chk["tv_excess"] < 0.05  # long-run Langevin matches its own grid density
    assert chk["tv_wrong"] > chk["floor"] + 0.1  # a sampler ignoring the energy is caught


def test_svebm_density_normaliser_on_a_flat_energy():
    flat = nn.Linear(2, 1)
    nn.init.zeros_(flat.weight)
    nn.init.zeros_(flat.bias)
    x = np.random.default_rng(0).standard_normal((500, 2)).astype(np.float32)
    assert ev.svebm_heldout_ll(flat, x) == pytest.approx(ev.gaussian_heldout_ll(x), abs=1e-3)
    torch.manual_seed(0)


def test_symbol_nmi_extremes():
    comp = np.repeat(np.arange(4), 25)
    assert M.symbol_nmi(comp, comp) == pytest.approx(1.0)
    assert M.symbol_nmi(np.zeros(100, int), comp) == pytest.approx(0.0)


def test_level_tails_are_one_percent_for_the_diffused_target_and_catch_divergent_chains():
    sched = make_schedule(6, 2e-3)
    rng = np.random.default_rng(3)
    exact = []
    for t in range(sched.T - 1, -1, -1):
        q = TARGET.diffused(float(sched.a_s_cum[t]), float(sched.sigmas_cum[t]))
        exact.append(q.sample(20_000, rng)[0])
    tails = ev.level_tails(exact, TARGET, sched, rng)
    assert sorted(tails) == list(range(sched.T))
    assert all(abs(v - 0.01) < 0.004 for v in tails.values())
    # chains that are not pulled back in: every level's samples scaled by 1/a_prev, as a flat
    # energy would leave them
    expanded = [x / float(sched.a_s_prev[t + 1]) for x, t in zip(exact, range(sched.T - 1, -1, -1))]
    assert ev.level_tails(expanded, TARGET, sched, rng)[sched.T - 2] > 0.05


PINWHEEL = pinwheel_mixture()


def test_pinwheel_mixture_follows_the_official_pinwheel():
    rng = np.random.default_rng(0)
    x, arms = PINWHEEL.sample(100_000, rng)
    assert PINWHEEL.centres.shape == (100, 2) and PINWHEEL.n_modes == 10
    assert np.bincount(arms).min() > 9_500  # equal arms
    np.testing.assert_allclose(x.var(0).max(), 1.0, rtol=0.02)
    official, ids = pinwheel(20_000, rng)
    official = official / np.sqrt(official.var(0).max())  # the same unit-variance scaling
    near, _ = M.nearest_centre(PINWHEEL, official)
    assert (PINWHEEL.modes[near] == ids).mean() > 0.95  # the arms lie where the official ones do
    own = PINWHEEL.log_density(x[:20_000].astype(np.float64)).mean()
    assert PINWHEEL.log_density(official.astype(np.float64)).mean() > own - 0.2
    mirrored = official * np.array([1.0, -1.0])  # the other spiral sense is worse
    assert PINWHEEL.log_density(mirrored.astype(np.float64)).mean() < own - 0.5


def test_pinwheel_metrics_fail_the_wrong_samplers_and_its_density_is_normalised():
    rng = np.random.default_rng(1)
    ref, _ = PINWHEEL.sample(1000, rng)
    data, _ = PINWHEEL.sample(1000, rng)
    s = {"data": data, **wrong_samples(PINWHEEL, 1000, rng)}
    score = {k: M.sample_metrics(PINWHEEL, v, ref, {"sigma": PINWHEEL.sigma}) for k, v in s.items()}
    for wrong in ("gaussian", "smear", "half_modes"):
        assert score["data"]["mmd_sigma"] < score[wrong]["mmd_sigma"]
    # 5 of 10 arms: log 2, less the samples that land nearer a missing arm where arms meet
    assert 0.5 < score["half_modes"]["mode_kl"] < np.log(2) and score["data"]["mode_kl"] < 0.02
    xs = np.linspace(-3.5, 3.5, 351)
    g = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    mass = np.exp(PINWHEEL.log_density(g)).sum() * (xs[1] - xs[0]) ** 2
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_grid_check_on_the_pinwheel_conditionals():
    class EC:
        longrun_chains, longrun_steps, grid_bins, check_level = 1200, 120, 8, 2

    chk = ev.analytic_check(PINWHEEL, make_schedule(6, 2e-3), EC, np.random.default_rng(0))
    assert chk["tv_excess"] < 0.05 and chk["tv_wrong"] > chk["floor"] + 0.1
