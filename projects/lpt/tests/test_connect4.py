"""Connect Four: bitboard vs pettingzoo, alpha-beta search, ESPER policies, data, batch env."""

from __future__ import annotations

import numpy as np
import pytest
from lpt.connect4 import (
    EXPLOIT_COL,
    N_ACTIONS,
    OBS_DIM,
    Connect4Batch,
    Connect4Spec,
    Game,
    Opponent,
    data_policy_win_rates,
    game_seeds,
    generate_dataset,
    specialised_action,
)
from lpt.connect4_search import _INF, ORDER, Board, _heuristic, _negamax, best_move

from reprokit.offline_rl import load_d4rl, split_episodes, write_d4rl

N_GAMES, SEED = 60, 3


@pytest.fixture(scope="module")
def arrays() -> dict[str, np.ndarray]:
    return generate_dataset(N_GAMES, seed=SEED)  # default depths


def random_board(rng: np.random.Generator, n_max: int) -> Board:
    """A random unfinished position with up to n_max stones."""
    while True:
        b = Board()
        for _ in range(int(rng.integers(0, n_max + 1))):
            legal = b.legal()
            b.play(legal[rng.integers(len(legal))])
            if b.winner() is not None:
                break
        if b.winner() is None and b.legal():
            return b


def test_bitboard_result_and_stones_agree_with_pettingzoo():
    rng = np.random.default_rng(0)
    results = set()
    for _ in range(300):
        g = Game()
        while not g.done:
            legal = np.flatnonzero(g.legal_mask())
            assert list(legal) == g.board.legal()
            g.play(int(rng.choice(legal)))
            w = g.board.winner()
            assert g.done == (w is not None or g.board.moves == 42)
            planes = g.obs().reshape(6, 7, 2)  # row 0 = top in pettingzoo
            for p in (0, 1):
                bits = g.board.stones(p)
                ours = [[(bits >> (7 * c + 5 - r)) & 1 for c in range(7)] for r in range(6)]
                np.testing.assert_array_equal(planes[..., p], ours)
        expected = {0: 1.0, 1: -1.0, None: 0.0}[g.board.winner()]
        assert g.reward == expected
        results.add(expected)
    assert results == {1.0, -1.0} or results == {1.0, -1.0, 0.0}  # both sides won some games


@pytest.mark.parametrize("depth", [1, 2, 4, 6])
def test_best_move_takes_immediate_win_and_blocks(depth):
    win = Board.from_columns([0, 6, 0, 6, 0, 5])  # player 0 has three in column 0
    assert best_move(win, depth) == 0
    block = Board.from_columns([0, 1, 0, 1, 0])  # player 1 must block column 0
    assert best_move(block, depth) == 0
    row = Board.from_columns([3, 3, 4, 4, 5, 5])  # open three 3-4-5 on the bottom: 2 or 6 wins
    assert best_move(row, depth) == 2  # first winning column in centre-first order


def _plain_negamax(b: Board, depth: int) -> int:
    """Reference: full-width negamax with the same scores (no pruning, no bounds table)."""
    if b.moves == 42:
        return 0
    for c in b.legal():
        child = b.copy()
        child.play(c)
        if child.winner() is not None:
            return 1_000_000 - (b.moves + 1)
    if depth == 0:
        return _heuristic(b.cur, b.cur ^ b.mask)
    vals = []
    for c in b.legal():
        child = b.copy()
        child.play(c)
        vals.append(-_plain_negamax(child, depth - 1))
    return max(vals)


def test_search_equals_plain_negamax_and_is_deterministic():
    rng = np.random.default_rng(1)
    for i in range(40):
        b = random_board(rng, 24)
        depth = 1 + i % 4
        assert _negamax(b.cur, b.mask, b.moves, depth, -_INF, _INF, {}) == _plain_negamax(b, depth)
        vals = {}
        for c in ORDER:
            if b.can_play(c):
                child = b.copy()
                child.play(c)
                vals[c] = (
                    1_000_000 - b.moves - 1
                    if child.winner() is not None
                    else -_plain_negamax(child, depth - 1)
                )
        ref = max(vals, key=lambda c: (vals[c], -ORDER.index(c)))
        assert best_move(b, depth) == ref == best_move(b.copy(), depth)
    with pytest.raises(ValueError, match="depth"):
        best_move(Board(), 0)


class _NoTable(dict):
    """A bound table that forgets every entry (search without transpositions)."""

    def __setitem__(self, key, value) -> None:
        pass


def test_bound_table_does_not_change_deep_search():
    rng = np.random.default_rng(2)
    for i in range(16):
        b = random_board(rng, 16)
        depth = 5 + i % 2
        args = (b.cur, b.mask, b.moves, depth)
        assert _negamax(*args, -_INF, _INF, {}) == _negamax(*args, -_INF, _INF, _NoTable())
        best, best_v = None, -_INF  # best_move's root loop without the table
        for c in ORDER:
            if b.can_play(c):
                child = b.copy()
                child.play(c)
                if child.winner() is not None:
                    best = c
                    break
                v = -_negamax(
                    child.cur, child.mask, child.moves, depth - 1, -_INF, -best_v, _NoTable()
                )
                if v > best_v:
                    best, best_v = c, v
        assert best_move(b, depth) == best


def test_specialised_policy_plays_column_6_first_then_rarely():
    rng = np.random.default_rng(0)
    b = Board()
    for t in range(5):
        assert specialised_action(b, t, rng) == EXPLOIT_COL
    b = Board.from_columns([0, 1, 2])
    picks = np.array([specialised_action(b, 5, rng) for _ in range(4000)])
    assert abs(np.mean(picks == EXPLOIT_COL) - 0.1) < 0.02
    assert set(picks.tolist()) == set(range(7))
    full = Board.from_columns([6] * 6)  # column 6 full: never chosen
    assert EXPLOIT_COL not in {specialised_action(full, t, rng) for t in range(50)}


def test_opponent_deviates_only_when_best_is_column_6():
    block6 = Board.from_columns([6, 0, 6, 0, 6])  # opponent must block column 6
    opp = Opponent(depth=4, rng=np.random.default_rng(7))
    picks = np.array([opp.act(block6) for _ in range(3000)])
    dev = picks != EXPLOIT_COL
    assert abs(dev.mean() - 0.2) < 0.025
    assert set(picks[dev].tolist()) <= set(range(6)) and len(set(picks[dev].tolist())) == 6
    assert opp.n_exploitable == 3000 and opp.n_deviations == dev.sum()
    block0 = Board.from_columns([0, 6, 0, 6, 0])  # best move 0: never deviates
    opp0 = Opponent(depth=4, rng=np.random.default_rng(7))
    assert {opp0.act(block0) for _ in range(300)} == {0} and opp0.n_deviations == 0


def test_dataset_round_trip_is_well_formed(arrays, tmp_path):
    N = len(arrays["rewards"])
    assert arrays["observations"].shape == arrays["next_observations"].shape == (N, OBS_DIM)
    assert arrays["actions"].shape == arrays["action_mask"].shape == (N, N_ACTIONS)
    core = {k: v for k, v in arrays.items() if k not in ("policy", "action_mask")}
    infos = {"policy": arrays["policy"], "action_mask": arrays["action_mask"]}
    data = load_d4rl(write_d4rl(tmp_path / "c4.hdf5", {**core, "infos": infos}))
    episodes = split_episodes(data)
    assert len(episodes) == N_GAMES and not data["timeouts"].any()
    for ep in episodes:
        T = len(ep["rewards"])
        assert 1 <= T <= Connect4Spec().horizon
        assert ep["terminals"].tolist() == [False] * (T - 1) + [True]
        assert (ep["rewards"][:-1] == 0).all() and ep["rewards"][-1] in (-1.0, 0.0, 1.0)
        np.testing.assert_array_equal(ep["actions"].sum(1), 1.0)
        a = ep["actions"].argmax(1)
        assert ep["infos/action_mask"][np.arange(T), a].all()  # every action legal
        assert len(set(ep["infos/policy"].tolist())) == 1
        assert not ep["observations"][0].any()  # agent moves first: empty board
        np.testing.assert_array_equal(ep["observations"][1:], ep["next_observations"][:-1])
        # per move the agent adds one stone and the opponent at most one
        assert ep["observations"][:, 0::2].sum() == sum(range(T))
    rates = data_policy_win_rates(data)
    assert rates == data_policy_win_rates(arrays)
    assert rates["strong"] > rates["specialised"] + 0.5


def test_batch_replay_reproduces_dataset_games(arrays):
    episodes = split_episodes(arrays)[:6]
    seeds = game_seeds(SEED, N_GAMES)[:6]
    batch = Connect4Batch(Connect4Spec(), seeds)
    obs = batch.reset()
    assert obs.shape == (6, OBS_DIM) and obs.dtype == np.float32 and not obs.any()
    total = np.zeros(6)
    T = max(len(ep["rewards"]) for ep in episodes)
    for t in range(T + 2):
        acts = np.zeros((6, N_ACTIONS), np.float32)
        for b, ep in enumerate(episodes):
            if t < len(ep["rewards"]):
                acts[b] = ep["actions"][t]
                np.testing.assert_array_equal(batch.legal_mask()[b], ep["action_mask"][t])
            else:
                assert batch.done[b] and batch.legal_mask()[b].all()
                acts[b, t % N_ACTIONS] = 1.0  # ignored after the game
        prev_done = batch.done.copy()
        obs, r = batch.step(acts)
        assert (r[prev_done] == 0).all()
        for b, ep in enumerate(episodes):
            t_end = len(ep["rewards"]) - 1
            np.testing.assert_array_equal(obs[b], ep["next_observations"][min(t, t_end)])
        total += r
    np.testing.assert_array_equal(total, [ep["rewards"].sum() for ep in episodes])
    assert batch.done.all()


def test_batch_rejects_illegal_column():
    for seed in range(20):
        batch = Connect4Batch(Connect4Spec(opp_depth=2), [seed])
        batch.reset()
        while not batch.done[0] and batch.legal_mask()[0, 3]:
            batch.step(np.eye(N_ACTIONS)[[3]])
        if not batch.done[0]:
            with pytest.raises(ValueError, match="illegal column 3"):
                batch.step(np.eye(N_ACTIONS)[[3]])
            return
    pytest.fail("column 3 never filled")


def test_cpu_connect4_profile_smoke_sized(tmp_path, monkeypatch):
    """The real entry point on a shrunk cpu-connect4 profile: categorical LPT end to end."""
    import json

    from lpt.configs import PROFILES
    from lpt.reproduce import main

    from reprokit.claims import validate
    from reprokit.report import claims_table

    monkeypatch.setenv("REPROKIT_DATA", str(tmp_path / "data"))
    cfg = PROFILES["cpu-connect4"]()
    assert cfg.data.env == "connect4" and cfg.model.window == 4 and cfg.data.strong_depth == 6
    assert cfg.langevin.ce_weight == 10.0 and cfg.methods == ("lpt", "dt", "bc")
    cfg.data.n_games, cfg.data.opp_depth, cfg.data.strong_depth = 24, 2, 2
    cfg.model.h, cfg.model.n_head, cfg.model.n_layer = 16, 2, 1
    cfg.langevin.n_train, cfg.langevin.n_test = 1, 2
    cfg.train.steps, cfg.train.batch_size, cfg.train.log_every = 3, 4, 1
    cfg.eval.n_episodes, cfg.eval.speed_steps = 3, 4
    cfg.seeds = (0, 1, 2)
    cfg.out = tmp_path / "out"
    main(cfg, "cpu-connect4")
    own = json.loads((cfg.out / "connect4_metrics.json").read_text())
    assert validate(own) == [] and own["profile"] == "cpu-connect4"
    for k in ("lpt", "lpt_ei", "dt", "bc", "oracle", "random"):
        assert all(-1.0 <= v <= 1.0 for v in own["metrics"][f"score/{k}"]["values"]), k
    assert "G_chain" in {g["id"] for g in own["gates"]}  # measured on Connect Four too
    for k in ("chain/own_vs_other", "chain/prior_pair", "balance/action", "balance/prior"):
        assert len(own["metrics"][k]["values"]) == 3, k
    assert {"score_greedy/lpt", "score_greedy/dt"} <= own["metrics"].keys()
    assert set(own["info"]["data"]["policy_mean_return"]) >= {"specialised", "strong"}
    assert own["metrics"]["speed/rollout_speedup"]["value"] > 0
    assert (cfg.out / "connect4_action_ce.png").exists()
    report = (cfg.out / "connect4_RESULTS.md").read_text()
    assert claims_table(own) in report and "0.99 ± 0.01" in report and "greedy" in report


def test_cached_rollout_equals_naive_rollout_discrete():
    """Greedy legal moves from the key/value-cached rollout equal those of the full forward."""
    import torch
    from lpt.configs import smoke
    from lpt.data import to_trajectories
    from lpt.evaluate import rollout
    from lpt.train import build_model

    data = to_trajectories(generate_dataset(8, 1, 1, seed=3), scale=1.0, discrete=True)
    assert data.discrete and np.all(data.obs_std == 1)
    torch.manual_seed(0)
    m = smoke().model
    m.n_layer = 2
    model = build_model("lpt", m, OBS_DIM, N_ACTIONS, discrete=True).eval()
    z = torch.randn(6, m.n_latent, m.h)
    spec = Connect4Spec(opp_depth=2)
    for decode_seed in (None, 7):  # greedy and sampled moves
        cached, _ = rollout(model, spec, data, list(range(6)), z=z, decode_seed=decode_seed)
        naive = rollout(
            model, spec, data, list(range(6)), z=z, cached=False, decode_seed=decode_seed
        )
        np.testing.assert_array_equal(cached, naive[0])
        assert set(np.unique(cached)) <= {-1.0, 0.0, 1.0}
