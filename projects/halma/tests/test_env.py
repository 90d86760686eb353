"""The gymnasium env: checker, affordance, trials; and its agreement with the batched env."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from halma import batched
from halma.env import HalmaEnv
from halma.oracle import distance_map
from halma.panel import sklearn_pool
from halma.rules import Rules, action_table


@pytest.fixture(scope="module")
def pool():
    return sklearn_pool("train")


def test_gymnasium_checker(pool):
    check_env(HalmaEnv(pool=pool), skip_render_check=False)
    check_env(HalmaEnv(observation="symbols"))


def test_invalid_moves_leave_the_agent_in_place():
    env = HalmaEnv(Rules(trial_steps=50, trial_budget=0), observation="symbols")
    env.reset(seed=0)
    table, seen_invalid = env.table, 0
    for a in np.random.default_rng(0).integers(0, table.n, 200):
        before, trial = env.pos, env.trial
        _, _, done, _, info = env.step(int(a))
        if not info["valid"]:
            seen_invalid += 1
            assert env.pos == before or env.trial > trial
        if done:
            break
    assert seen_invalid > 10


def test_trials_respawn_and_end_the_episode():
    env = HalmaEnv(Rules(trials=3, trial_steps=4), observation="symbols")
    env.reset(options={"board": (np.zeros((3, 3), bool), (0, 0), (2, 2))})
    up = env.table.index(0, 1)  # never afforded from the top row
    for i in range(1, 13):
        _, _, done, _, info = env.step(up)
        assert not info["valid"] and env.pos == (0, 0)
        assert info["trial"] == i // 4 and done == (i == 12)
    assert info["trial_steps"] == [4, 4, 4] and info["trial_success"] == [False] * 3
    right, down = env.table.index(1, 1), env.table.index(2, 1)
    env.reset(options={"board": (np.zeros((3, 3), bool), (0, 0), (2, 2))})
    for trial in range(3):
        for a in (right, right, down, down):
            _, _, done, _, info = env.step(a)
        assert env.pos == (0, 0) and info["trial_success"] == [True] * (trial + 1)
    assert done and info["trial_steps"] == [4, 4, 4]


def rollout_both(rules, boards, pool, n_steps, seed):
    """Random actions in the gym env (one per board) and in one batched state; compare."""
    table = action_table(rules)
    rng = np.random.default_rng(seed)
    instance = rng.integers(0, 1 << 30, (len(boards["pawns"]), 10))
    pot = np.stack(
        [
            -distance_map(p, tuple(g), table.values(), unreachable=p.size)
            for p, g in zip(boards["pawns"], boards["goal"])
        ]
    )
    envs = [HalmaEnv(rules, pool=pool) for _ in boards["pawns"]]
    obs = [
        e.reset(seed=0, options={"board": (p, s, g), "instance": i})[0]
        for e, p, s, g, i in zip(envs, boards["pawns"], boards["start"], boards["goal"], instance)
    ]
    limit = np.array([e.limit for e in envs])
    assert (limit == boards["trial_limit"]).all()
    state = batched.reset(
        boards["pawns"], boards["start"], boards["goal"], instance, rules, pot, limit
    )
    assert (batched.observe(state, pool, rules) == np.stack(obs)).all()
    valid = 0
    for _ in range(n_steps):
        actions = rng.integers(0, table.n, len(envs))
        state, reward, info = batched.step(state, actions, table, rules)
        valid += info["valid"].sum()
        for b, (env, a) in enumerate(zip(envs, actions)):
            if state.done[b] and info["trial_end"][b] == 0:
                continue  # the gym episode ended earlier
            o, r, done, _, inf = env.step(int(a))
            assert inf["valid"] == info["valid"][b]
            assert r == pytest.approx(reward[b])
            assert tuple(state.pos[b]) == env.pos
            assert done == state.done[b]
            assert (batched.observe(state, pool, rules)[b] == o).all()
            assert inf["trial_steps"] == state.steps[b, : len(inf["trial_steps"])].tolist()
    assert valid > n_steps  # the rollouts did move
    return state


def test_batched_equals_gymnasium_on_random_rollouts(boards, pool):
    rules = Rules(shaping=0.5, invalid_penalty=-0.1)
    both = {k: np.concatenate([boards[s][k] for s in boards]) for k in boards["iid"]}
    state = rollout_both(rules, both, pool, 3 * 20, seed=0)
    assert state.done.all()


def test_batched_step_is_pure(boards):
    rules, table = Rules(), action_table(Rules())
    b = boards["iid"]
    state = batched.reset(b["pawns"], b["start"], b["goal"], np.zeros((12, 10), int), rules)
    copy = {k: v.copy() for k, v in vars(state).items()}
    batched.step(state, np.zeros(12, int), table, rules)
    assert all((vars(state)[k] == v).all() for k, v in copy.items())
