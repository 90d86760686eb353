"""Park-style Maze2D data: the split rule, and returns that equal the evaluated reward."""

from __future__ import annotations

import numpy as np
import pytest
from lpt.maze2d import (
    EVAL_GOAL_CELL,
    SOLVE_THRESH,
    WaypointController,
    eval_spec,
    generate_dataset,
    goal_bound,
    make_env,
    segment_ends,
)

from reprokit.offline_rl import split_episodes

H = 60


@pytest.fixture(scope="module")
def park() -> list[dict[str, np.ndarray]]:
    return split_episodes(generate_dataset("umaze", 3000, H, 0.5, 0, "park"))


@pytest.mark.parametrize(
    ("reached", "steps", "parks", "ends"),
    [
        (True, 5, False, True),  # D4RL: a segment ends on arrival
        (True, 5, True, False),  # park: aimed at the evaluation goal, it stays
        (False, H, True, True),  # every segment ends after H steps
        (False, H - 1, False, False),
    ],
)
def test_split_rule(reached, steps, parks, ends):
    assert segment_ends(reached, steps, H, parks) is ends


def _aims_at_goal(segment: dict[str, np.ndarray]) -> bool:
    ctrl = WaypointController(make_env("umaze", 0))
    return ctrl.cell(segment["goals"][0]) == EVAL_GOAL_CELL["umaze"]


def test_segments_aimed_at_the_goal_last_the_whole_window(park):
    """Park segments run to H (the last may be cut by the end of the stream); the others end on
    arrival as in D4RL, and targets stay random (several target cells, not only the goal)."""
    segments = park[:-1]
    aimed = np.array([_aims_at_goal(s) for s in segments])
    lengths = np.array([len(s["actions"]) for s in segments])
    assert aimed.any() and not aimed.all()
    assert (lengths[aimed] == H).all()
    early = [s for s, a, n in zip(segments, aimed, lengths, strict=True) if not a and n < H]
    assert early  # ended on arrival: the last state is within D4RL's solve threshold
    for s in early:
        assert np.linalg.norm(s["observations"][-1, :2] - s["goals"][-1]) <= SOLVE_THRESH


def test_goal_bound_subset_is_the_segments_parked_at_the_goal(park):
    goal = eval_spec("umaze", H).goal_xy
    final = np.stack([s["observations"][-1, :2] for s in park[:-1]])
    bound = goal_bound(final, goal)
    aimed = np.array([_aims_at_goal(s) for s in park[:-1]])
    assert bound.any() and not (bound & ~aimed).any()  # only segments aimed at the goal


def test_return_equals_the_evaluated_reward_over_the_same_window(park):
    """Replaying a segment's actions from its first state in an evaluation environment, the
    rewards ``MazeBatch``-style evaluation counts sum to the segment's return."""
    from lpt.maze2d import relabel_rewards

    goal = eval_spec("umaze", H).goal_xy
    env = make_env("umaze", 0)
    checked = 0
    for seg in park[:-1]:
        if seg["rewards"].sum() == 0:
            continue
        env.reset(seed=0)
        obs0 = seg["observations"][0].astype(np.float64)
        env.point_env.set_state(obs0[:2], obs0[2:4])
        R = 0.0
        for a in seg["actions"]:
            obs = env.step(a.astype(np.float64))[0]["observation"]
            R += float(relabel_rewards(obs[None, :2], goal)[0])
        assert float(seg["rewards"].sum()) == R
        checked += 1
    assert checked >= 3


def test_d4rl_style_is_unchanged_by_the_park_option():
    a = generate_dataset("umaze", 300, 50, 0.5, 3)
    b = generate_dataset("umaze", 300, 50, 0.5, 3, "d4rl")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="unknown segment style"):
        generate_dataset("umaze", 10, 5, 0.5, 0, "parked")


def test_matched_reference_starts_where_evaluation_episodes_start(park):
    """The matched planning reference (y* and the chains' start) is the best segment among those
    that start outside the goal radius, as every evaluation reset does; the data's best segment
    (the official rule) is one that starts at the goal and stays."""
    from lpt.evaluate import planning_reference
    from lpt.maze2d import GOAL_RADIUS, MazeBatch, starts_like_evaluation

    goal = eval_spec("umaze", H).goal_xy
    first = np.stack([s["observations"][0, :2] for s in park])
    returns = np.array([s["rewards"].sum() for s in park])
    outside = starts_like_evaluation(first, goal)
    best, matched = (planning_reference(returns, e) for e in (np.ones_like(outside), outside))
    assert not outside[best] and outside[matched]
    assert returns[matched] == returns[outside].max() < returns[best]
    starts = MazeBatch(eval_spec("umaze", H), list(range(20))).reset()[:, :2]
    assert starts_like_evaluation(starts, goal).all()
    assert np.linalg.norm(first[~outside] - goal, axis=-1).max() <= GOAL_RADIUS
