"""Why does gate G_solvable fail? Three diagnostics of one seed's world (not part of the claims).

1. ``separation``: nearest-centroid accuracy of the frozen encoder's features over the seen game
   categories, for photos, clean sketches and the pretrained sender's canvases (after step 1 and
   after the whole sketch), against photo centroids (the cross-modal match the receiver needs)
   and against centroids of the same kind (how separable that kind is at all).
2. ``supervised_receiver``: the game's ``Receiver`` trained by cross-entropy on the whole-sketch
   canvases of the fixed sender, at the game's budget: the ceiling of the renderer, the encoder
   and the receiver's architecture without the game's incentives; ``every_step``: one receiver
   trained on the canvases of every step, as the game trains it (no game incentives either).
3. ``senderfixed_replay``: the sender-fixed game itself (the real receiver, value model, λ-returns,
   actor and critic losses and lr schedule), replayed on precomputed canvas features (the frozen,
   deterministic sender draws the same canvases in every game); ``last_step_only`` applies the
   ``max`` setting's mask (guesses allowed only after the whole sketch).
4. ``receiver_budget`` (``--budgets 1200,3600``, instead of 1-3): the sender-fixed replay at each
   number of game batches, and where its whole-sketch errors fall (``same_shape_errors``).

``python -m sketchgame.diagnose [--world .../units/seed100/world.pt] [--key value ...]``: the
pilot profile's first seed unless overridden (``--train.n_games 1200``, ``--data.modifiers_after
25`` for the earlier design with the modifier strokes after the whole outline); the world is
rebuilt when no saved one is given.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from sketchgame import configs
from sketchgame import game as G
from sketchgame.agents import Receiver, ValueModel
from sketchgame.referents import sample_games
from sketchgame.train import fixed_sender_features, lr_factors, n_games_of
from sketchgame.world import World, build_world, load_world
from torch import Tensor, nn

from reprokit.config import parse


def canvas_features(cfg, world: World) -> Tensor:
    """Frozen features of the pretrained sender's blank canvas and canvas after every step:
    (C, I, T + 1, D)."""
    g = cfg.game
    return fixed_sender_features(
        world.sender0, world, {"sigma": g.sigma, "k": g.points_per_stroke, "gain": g.gain}
    )


def nearest_centroid(world: World, feats: Tensor, insts: np.ndarray, centroids: Tensor) -> float:
    """Cosine nearest-centroid accuracy of feats (C, I, D) over the seen categories."""
    q = nn.functional.normalize(feats[world.seen][:, insts].flatten(0, 1), dim=1)
    labels = torch.as_tensor(np.repeat(np.arange(len(world.seen)), len(insts)))
    pred = (q @ nn.functional.normalize(centroids, dim=1).T).argmax(1)
    return (pred == labels).float().mean().item()


def separation(world: World, f_canvas: Tensor) -> dict[str, float]:
    """Nearest photo-centroid / same-kind-centroid accuracy per input kind (chance 1/18)."""
    tr, te = world.train_inst, world.test_inst
    photo_c = world.photo_feats[world.seen][:, tr].mean(1)
    kinds = {
        "photo": (world.photo_feats, te),
        "sketch": (world.sketch_feats, tr),
        "canvas_step1": (f_canvas[:, :, 1], tr),
        "canvas_whole": (f_canvas[:, :, -1], tr),
    }
    out = {}
    for name, (f, insts) in kinds.items():
        own_c = f[world.seen][:, tr].mean(1)
        out[f"{name}_vs_photo"] = nearest_centroid(world, f, insts, photo_c)
        out[f"{name}_vs_own"] = nearest_centroid(world, f, insts, own_c)
    return out


def training_games(cfg, world: World, n: int, rng: np.random.Generator):
    """n games over the seen training referents, as in ``train.train_setting``."""
    return sample_games(world.cats, world.seen, world.train_inst, n, cfg.data.p_same_shape, rng)


def game_logits(rec: Receiver, world: World, f_canvas: Tensor, games) -> Tensor:
    """The receiver's logits (B, T, 4) over the precomputed canvases of the games."""
    f_cands = world.photo_feats[games.cand_cat, games.cand_inst]
    return G.receiver_logits(rec, f_cands, f_canvas[games.sketch_cat, games.sketch_inst])


def supervised_receiver(
    cfg, world: World, f_canvas: Tensor, seed: int, every_step: bool = False
) -> list[float]:
    """Cross-entropy over the 3 candidates after the whole sketch (``every_step``: after every
    step, one receiver for all steps, as in the game); forced-guess accuracy per step on fresh
    games."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    rec = Receiver(f_canvas.shape[-1], cfg.model.proj_dim)
    opt = torch.optim.Adam(rec.parameters(), lr=cfg.train.receiver_lr)
    for _ in range(cfg.train.n_games):
        gm = training_games(cfg, world, cfg.train.batch_size, rng)
        logits = game_logits(rec, world, f_canvas, gm)[:, slice(None) if every_step else [-1], :3]
        target = torch.as_tensor(gm.target)[:, None].expand(-1, logits.shape[1])
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return forced_accuracy(cfg, world, rec, f_canvas, seed)


def forced_guesses(cfg, world: World, rec: Receiver, f_canvas: Tensor, seed: int):
    """Evaluation games of the seen referents and the receiver's guess forced at every step
    (B, T)."""
    rng = np.random.default_rng(seed + 10_000)
    gm = training_games(cfg, world, cfg.eval.n_games, rng)
    with torch.no_grad():
        return gm, game_logits(rec, world, f_canvas, gm)[..., :3].argmax(2)


def forced_accuracy(cfg, world: World, rec: Receiver, f_canvas: Tensor, seed: int) -> list[float]:
    """Accuracy with the guess forced at every step, on evaluation games of the seen referents."""
    gm, guess = forced_guesses(cfg, world, rec, f_canvas, seed)
    return (guess == torch.as_tensor(gm.target)[:, None]).float().mean(0).tolist()


def same_shape_errors(cfg, world: World, rec: Receiver, f_canvas: Tensor, seed: int) -> dict:
    """Whole-sketch accuracy in games with / without a same-shape distractor, and the share of
    the errors that pick a candidate of the target's base shape (another modifier)."""
    gm, guess = forced_guesses(cfg, world, rec, f_canvas, seed)
    last = guess[:, -1].numpy()
    ok = last == gm.target
    shape = np.array([c[0] for c in world.cats])
    picked = gm.cand_cat[np.arange(len(last)), last]
    same = (shape[gm.cand_cat] == shape[gm.sketch_cat][:, None]).sum(1) > 1
    return {
        "acc_same_shape_distractor": float(ok[same].mean()),
        "acc_no_same_shape_distractor": float(ok[~same].mean()),
        "errors_on_same_shape": float((shape[picked] == shape[gm.sketch_cat])[~ok].mean()),
    }


def senderfixed_replay(
    cfg, world: World, f_canvas: Tensor, seed: int, last_step_only: bool = False
) -> Receiver:
    """Train the receiver and value model exactly as ``train.train_setting('senderfixed')``
    (``n_games_of``: ``train.fixed_sender_games``); return the receiver."""
    tr, g = cfg.train, cfg.game
    torch.manual_seed(seed)
    D, P = f_canvas.shape[-1], cfg.model.proj_dim
    rec, value = Receiver(D, P), ValueModel(D, P)
    opt_r = torch.optim.Adam(rec.parameters(), lr=tr.receiver_lr)
    opt_v = torch.optim.Adam(value.parameters(), lr=tr.value_lr)
    rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    for n in range(n_games_of(tr, "senderfixed")):
        _, fr = lr_factors(n, tr.warmup_games, tr.decay_every, tr.sender_decay, tr.receiver_decay)
        for p in opt_r.param_groups:
            p["lr"] = tr.receiver_lr * fr
        gm = training_games(cfg, world, tr.batch_size, rng)
        ro = replay_rollout(rec, value, world, f_canvas, gm, last_step_only, gen)
        loss, returns = G.actor_critic_loss(ro, torch.as_tensor(gm.target), g.gamma, g.lam)
        opt_r.zero_grad()
        loss.backward()
        opt_r.step()
        opt_v.zero_grad()
        G.critic_loss(value, ro, returns).backward()
        opt_v.step()
    return rec


def receiver_budget(cfg, world: World, f_canvas: Tensor, seed: int, budgets: list[int]) -> dict:
    """The sender-fixed replay after each number of game batches: forced-guess accuracy per step
    and ``same_shape_errors``."""
    out = {}
    for n in budgets:
        cfg.train.fixed_sender_games = n
        rec = senderfixed_replay(cfg, world, f_canvas, seed)
        out[f"forced@{n}"] = forced_accuracy(cfg, world, rec, f_canvas, seed)
        out[f"errors@{n}"] = same_shape_errors(cfg, world, rec, f_canvas, seed)
    return out


def replay_rollout(rec, value, world: World, f_canvas: Tensor, gm, last_step_only: bool, gen):
    """A sampled ``game.Rollout`` over precomputed canvases, as ``train.train_setting`` plays a
    fixed sender; ``last_step_only``: the ``max`` setting's mask."""
    setting = "max" if last_step_only else "senderfixed"
    f_steps = f_canvas[gm.sketch_cat, gm.sketch_inst]
    return G.decide(rec, value, world.batch(gm), f_steps, setting, True, gen)


def _option(argv: list[str], name: str) -> str | None:
    """Remove ``name value`` from argv and return the value."""
    if name not in argv:
        return None
    i = argv.index(name)
    value = argv[i + 1]
    del argv[i : i + 2]
    return value


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    world_file = _option(argv, "--world")
    budgets = _option(argv, "--budgets")
    _, cfg = parse(configs.PROFILES, argv, "sketchgame.diagnose", default_profile="pilot")
    seed = cfg.seeds[0]
    torch.set_num_threads(1)
    t0 = time.time()
    world = load_world(cfg, seed, Path(world_file)) if world_file else build_world(cfg, seed)
    f_canvas = canvas_features(cfg, world)
    if budgets:
        out = receiver_budget(cfg, world, f_canvas, seed, [int(b) for b in budgets.split(",")])
    else:
        out = {"separation": separation(world, f_canvas), "facts": world.facts}
        out["supervised_whole_sketch"] = supervised_receiver(cfg, world, f_canvas, seed)[-1]
        out["supervised_every_step"] = supervised_receiver(cfg, world, f_canvas, seed, True)
        for key, last in (("senderfixed_forced", False), ("last_step_only_forced", True)):
            rec = senderfixed_replay(cfg, world, f_canvas, seed, last)
            out[key] = forced_accuracy(cfg, world, rec, f_canvas, seed)
    for key, v in out.items():
        shown = {a: round(b, 3) for a, b in v.items()} if isinstance(v, dict) else np.round(v, 3)
        print(key, shown)
    print(f"wall {time.time() - t0:.0f} s")
    return out


if __name__ == "__main__":
    main()
