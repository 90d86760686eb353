"""PPO pieces against literal transcriptions; a 2-update run learns something and resumes."""

import numpy as np
import pytest
import torch
from halma import batched
from halma.configs import SMOKE_PPO
from halma.panel import digit_pool
from halma.ppo import PPO, for_agent, gae, merge, train
from halma.rules import Rules
from halma.splits import Layout

TINY = SMOKE_PPO  # the smoke profile's PPO budget


def test_gae_equals_the_naive_sum():
    rng = np.random.default_rng(0)
    T, B, gamma, lam = 6, 3, 0.9, 0.8
    r, v, last = rng.normal(size=(T, B)), rng.normal(size=(T, B)), rng.normal(size=B)
    d = (rng.random((T, B)) < 0.3).astype(float)
    got = gae(*(torch.tensor(x) for x in (r, v, d, last)), gamma, lam).numpy()
    values = np.vstack([v, last])
    for b in range(B):
        for t in range(T):
            expect, scale = 0.0, 1.0
            for k in range(t, T):
                delta = r[k, b] + gamma * values[k + 1, b] * (1 - d[k, b]) - v[k, b]
                expect += scale * delta
                if d[k, b]:
                    break
                scale *= gamma * lam
            assert np.isclose(got[t, b], expect)


def test_merge_takes_new_boards_only_where_asked(boards):
    b, rules = boards["iid"], Rules()
    old = batched.reset(b["pawns"][:4], b["start"][:4], b["goal"][:4], np.zeros((4, 10)), rules)
    new = batched.reset(b["pawns"][4:8], b["start"][4:8], b["goal"][4:8], np.ones((4, 10)), rules)
    mask = np.array([True, False, True, False])
    out = merge(mask, new, old)
    assert (out.pawns[0] == new.pawns[0]).all() and (out.pawns[1] == old.pawns[1]).all()
    assert (out.instance[:, 0] == [1, 0, 1, 0]).all()


def test_two_updates_change_the_weights_and_resume_exactly(tmp_path):
    pool, rules, layout = digit_pool("train"), Rules(), Layout()
    a, hist_a = train("factored", TINY, rules, layout, pool, 0, tmp_path / "a")
    assert len(hist_a) == 2 and all(np.isfinite(h["pg"]) for h in hist_a)
    fresh = train(
        "factored", PPO(**{**vars(TINY), "total_steps": 1}), rules, layout, pool, 0, tmp_path / "b"
    )[0]
    assert any((p != q).any() for p, q in zip(a.parameters(), fresh.parameters()))
    # a run stopped after update 1 and rerun resumes from its checkpoint to the same end
    stopped = tmp_path / "c"
    with pytest.raises(Stop):
        train("factored", TINY, rules, layout, pool, 0, stopped, StopAfter(1))
    assert len(list((stopped / "checkpoints").iterdir())) == 1
    b, hist_b = train("factored", TINY, rules, layout, pool, 0, stopped)
    assert [h["pg"] for h in hist_b] == [h["pg"] for h in hist_a]
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


class Stop(Exception):
    pass


class StopAfter:
    """Stands in for a Session whose stop flag is raised after ``n`` updates."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def boundary(self, where: str, save) -> None:
        self.calls += 1
        if self.calls == self.n:
            save()
            raise Stop(where)


def test_only_the_agents_without_sharing_get_the_swept_learning_rate_and_entropy():
    ppo = PPO()
    for name in ("symbolic", "slot_gru"):
        tuned = for_agent(ppo, name)
        assert (tuned.lr, tuned.ent_coef) == (ppo.unshared_lr, ppo.unshared_ent_coef)
    for name in ("symbolic_factored", "symbolic_relational", "factored", "symbolic_blind"):
        assert for_agent(ppo, name) == ppo
