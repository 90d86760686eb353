import numpy as np
import pytest
import torch
from sketchgame import configs, diagnose
from sketchgame import game as G
from sketchgame.agents import Receiver, ValueModel
from sketchgame.referents import sample_games
from sketchgame.world import build_world


@pytest.fixture(scope="module")
def smoke_world():
    cfg = configs.smoke()
    return cfg, build_world(cfg, 0)


def test_replay_on_precomputed_canvases_equals_the_game(smoke_world) -> None:
    """The sender-fixed replay sees exactly what ``game.play`` shows the receiver and critic."""
    cfg, w = smoke_world
    g = cfg.game
    torch.manual_seed(0)
    D, P = w.photo_feats.shape[-1], cfg.model.proj_dim
    rec, value = Receiver(D, P), ValueModel(D, P)
    gm = sample_games(w.cats, w.seen, w.train_inst, 8, 0.6, np.random.default_rng(0))
    kw = {"sigma": g.sigma, "k": g.points_per_stroke, "gain": g.gain}
    with torch.no_grad():
        ro = G.play(w.sender0, rec, value, w.encoder, w.batch(gm), "senderfixed", kw, False)
        f_canvas = diagnose.canvas_features(cfg, w)
        rep = diagnose.replay_rollout(rec, value, w, f_canvas, gm, False, torch.Generator())
    torch.testing.assert_close(rep.probs, ro.probs, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(rep.values, ro.values, atol=1e-5, rtol=1e-4)


def test_last_step_only_mask_allows_guesses_only_at_the_end(smoke_world) -> None:
    cfg, w = smoke_world
    D, P = w.photo_feats.shape[-1], cfg.model.proj_dim
    gm = sample_games(w.cats, w.seen, w.train_inst, 8, 0.6, np.random.default_rng(1))
    f_canvas = diagnose.canvas_features(cfg, w)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        ro = diagnose.replay_rollout(Receiver(D, P), ValueModel(D, P), w, f_canvas, gm, True, gen)
    assert (ro.actions[:, :-1] == G.WAIT).all() and (ro.actions[:, -1] != G.WAIT).all()


def test_nearest_centroid_detects_swapped_labels(smoke_world) -> None:
    _, w = smoke_world
    feats = torch.eye(len(w.cats))[:, None].expand(-1, 3, -1)  # one direction per category
    centroids = feats[w.seen][:, 0]
    insts = np.arange(3)
    assert diagnose.nearest_centroid(w, feats, insts, centroids) == 1.0
    assert diagnose.nearest_centroid(w, feats, insts, centroids.flip(0)) < 0.5


@pytest.mark.parametrize("setting", ["onestep", "retrieve", "max", "complete"])
def test_settings_steps_and_masks(smoke_world, setting: str) -> None:
    """one-step plays a single step; max and retrieve guess only at the last step."""
    cfg, w = smoke_world
    g = cfg.game
    D, P = w.photo_feats.shape[-1], cfg.model.proj_dim
    gm = sample_games(w.cats, w.seen, w.train_inst, 8, 0.6, np.random.default_rng(2))
    kw = {"sigma": g.sigma, "k": g.points_per_stroke, "gain": g.gain}
    with torch.no_grad():
        ro = G.play(w.sender0, Receiver(D, P), ValueModel(D, P), w.encoder, w.batch(gm),
                    setting, kw, True, torch.Generator().manual_seed(0))  # fmt: skip
    T = 1 if setting == "onestep" else g.max_step
    assert ro.probs.shape == (8, T, 4) and ro.canvases.shape[1] == T
    if setting in G.FORCED_WAIT:
        assert (ro.actions[:, :-1] == G.WAIT).all() and (ro.actions[:, -1] != G.WAIT).all()
    assert (setting == "retrieve") == (setting in G.FIXED_SENDER and setting in G.SCORE_FUNCTION)


def test_same_shape_errors_split_the_whole_sketch_accuracy(smoke_world) -> None:
    """The accuracies with / without a same-shape distractor average to the forced last-step
    accuracy; the replay trains for ``train.fixed_sender_games`` batches."""
    _, w = smoke_world
    cfg = configs.smoke()
    cfg.eval.n_games = 200
    f_canvas = diagnose.canvas_features(cfg, w)
    out = diagnose.receiver_budget(cfg, w, f_canvas, 0, [3])
    err, last = out["errors@3"], out["forced@3"][-1]
    gm = diagnose.training_games(cfg, w, cfg.eval.n_games, np.random.default_rng(10_000))
    shape = np.array([c[0] for c in w.cats])
    p = ((shape[gm.cand_cat] == shape[gm.sketch_cat][:, None]).sum(1) > 1).mean()
    mixed = p * err["acc_same_shape_distractor"] + (1 - p) * err["acc_no_same_shape_distractor"]
    assert abs(mixed - last) < 1e-6 and 0.0 <= err["errors_on_same_shape"] <= 1.0
