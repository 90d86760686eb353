"""Training one environmental setting for one seed (official main loop, CPU-sized).

Optimisers: Adam β = (0.9, 0.999) for receiver, value model and sender (separate); the sender's
learning rate warms up linearly from 0 over ``warmup_games`` (the warm-up keeps the iconic sender
from collapsing before the receiver is competent), afterwards every ``decay_every`` games the
sender lr × ``sender_decay`` and the receiver lr × ``receiver_decay``. ``senderfixed`` and
``retrieve`` train the receiver only; ``max`` and ``retrieve`` forbid early guesses; ``onestep``
plays one step; ``reinforce`` and ``retrieve`` use the score-function loss (``game`` docstring).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from sketchgame import game as G
from sketchgame.agents import Receiver, Sender, ValueModel
from sketchgame.referents import sample_games
from sketchgame.sketcher import rollout
from sketchgame.world import World

from reprokit.torch_utils import DivergenceError, capture_rng_state


@dataclass
class Agents:
    sender: Sender
    receiver: Receiver
    value: ValueModel


def n_games_of(tr, setting: str) -> int:
    """Game batches of a setting: ``fixed_sender_games`` where only the receiver learns (a fixed
    sender's game batch costs ~1/10 of a learning sender's), else ``n_games``."""
    return tr.fixed_sender_games if setting in G.FIXED_SENDER else tr.n_games


def lr_factors(
    n: int, warmup: int, decay_every: int, sender_decay: float, receiver_decay: float
) -> tuple[float, float]:
    """(sender, receiver) learning-rate multipliers after n games."""
    if n < warmup:
        return n / warmup, 1.0
    k = (n - warmup) / decay_every
    return sender_decay**k, receiver_decay**k


@torch.no_grad()
def fixed_sender_features(sender: Sender, world: World, draw_kw: dict) -> torch.Tensor:
    """Frozen features of a fixed (deterministic) sender's blank canvas and canvas after each step
    for every referent: (C, I, T + 1, D). A fixed sender draws the same canvases in every game,
    so its training games replay these (``game.decide``) instead of drawing them again."""
    C, I = world.sketches.shape[:2]
    flat = world.sketches.flatten(0, 1)
    _, f = G.draw_steps(sender, world.encoder, flat, draw_kw, sender.max_step)
    return f.view(C, I, *f.shape[1:])


def make_agents(cfg, world: World, seed: int) -> Agents:
    torch.manual_seed(seed + 7)
    m = cfg.model
    return Agents(
        world.fresh_sender(), Receiver(m.feat_dim, m.proj_dim), ValueModel(m.feat_dim, m.proj_dim)
    )


def train_setting(
    cfg,
    world: World,
    setting: str,
    seed: int,
    ckpt,
    log: Callable[..., None],
    boundary: Callable[[str, Callable[[], None]], None],
    progress: Callable,
) -> tuple[Agents, dict[str, list[float]]]:
    """Play ``n_games_of(train, setting)`` batches of games; return the agents and per-game
    training curves (sampled-play accuracy, game length, sender lr, sketch snapshots, training
    seconds)."""
    tr, g = cfg.train, cfg.game
    draw_kw = {"sigma": g.sigma, "k": g.points_per_stroke, "gain": g.gain}
    ag = make_agents(cfg, world, seed)
    learn_sender = setting not in G.FIXED_SENDER
    n_games = n_games_of(tr, setting)
    fixed = None if learn_sender else fixed_sender_features(ag.sender, world, draw_kw)
    opt_s = torch.optim.Adam(ag.sender.parameters(), lr=tr.sender_lr)
    opt_r = torch.optim.Adam(ag.receiver.parameters(), lr=tr.receiver_lr)
    opt_v = torch.optim.Adam(ag.value.parameters(), lr=tr.value_lr)
    rng = np.random.default_rng(seed * 7919 + G.SETTINGS.index(setting))
    gen = torch.Generator().manual_seed(seed)
    curves: dict[str, list] = {"acc": [], "steps": [], "sender_lr": [], "snapshots": []}
    curves["train_s"] = [0.0]  # training wall time, summed over resumed invocations
    snap_at = set(np.linspace(0, n_games, cfg.eval.n_snapshots).astype(int).tolist())
    snap_sketches = world.sketches[world.seen, 0]
    state = {"sender": ag.sender, "receiver": ag.receiver, "value": ag.value}
    start = ckpt.resume(state_models(state), None, np_rng=rng)
    if start:
        curves = ckpt.state["curves"]
        for k, o in (("opt_s", opt_s), ("opt_r", opt_r), ("opt_v", opt_v)):
            o.load_state_dict(ckpt.state[k])
        gen.set_state(ckpt.state["gen"])

    def save(n: int) -> None:
        opts = {
            "opt_s": opt_s.state_dict(),
            "opt_r": opt_r.state_dict(),
            "opt_v": opt_v.state_dict(),
        }
        model = state_models(state).state_dict()
        rngs = {"rng": capture_rng_state(rng), "gen": gen.get_state()}
        ckpt.save(n, {"model": model, "curves": curves, **opts, **rngs})

    t0, spent = time.perf_counter(), curves["train_s"][0]
    for n in progress(range(start, n_games), desc=setting):
        curves["train_s"][0] = spent + time.perf_counter() - t0
        if n in snap_at:
            curves["snapshots"].append(
                rollout(ag.sender, snap_sketches, {"size": g.size, **draw_kw})[1][:, -1]
            )
        fs, fr = lr_factors(n, tr.warmup_games, tr.decay_every, tr.sender_decay, tr.receiver_decay)
        for p in opt_s.param_groups:
            p["lr"] = tr.sender_lr * fs
        for p in opt_r.param_groups:
            p["lr"] = tr.receiver_lr * fr
        games = sample_games(
            world.cats, world.seen, world.train_inst, tr.batch_size, cfg.data.p_same_shape, rng
        )
        batch = world.batch(games)
        if fixed is None:
            ro = G.play(
                ag.sender, ag.receiver, ag.value, world.encoder, batch, setting, draw_kw, True, gen
            )
        else:  # the same canvases in every game: only the receiver's side is recomputed
            f_steps = fixed[games.sketch_cat, games.sketch_inst]
            ro = G.decide(ag.receiver, ag.value, batch, f_steps, setting, True, gen)
        if setting in G.SCORE_FUNCTION:
            loss, returns = G.reinforce_loss(ro, batch.target, g.gamma)
        else:
            loss, returns = G.actor_critic_loss(ro, batch.target, g.gamma, g.lam)
        opt_s.zero_grad()
        opt_r.zero_grad()
        loss.backward()
        if learn_sender:
            opt_s.step()
        opt_r.step()
        opt_v.zero_grad()  # drop the actor loss's gradient on the value model: separate critic loss
        vloss = G.critic_loss(ag.value, ro, returns)
        vloss.backward()
        opt_v.step()
        idx, act = G.first_guess(ro.actions)
        acc = (act == batch.target).float().mean().item()
        T = ro.actions.shape[1]
        steps = (idx.clamp(max=T - 1) + 1).float().mean().item()
        curves["acc"].append(acc)
        curves["steps"].append(steps)
        curves["sender_lr"].append(tr.sender_lr * fs if learn_sender else 0.0)
        if not np.isfinite(loss.item()) or not np.isfinite(vloss.item()):
            raise DivergenceError(f"loss is nan at game {n} ({setting}, seed {seed})")
        if n % tr.log_every == 0:
            log(
                n,
                **{
                    f"{setting}/acc": acc,
                    f"{setting}/steps": steps,
                    f"{setting}/loss": loss.item(),
                },
            )
        if ckpt.due(n + 1):
            save(n + 1)
        boundary(f"at {setting} seed {seed} game {n + 1}", lambda n=n: save(n + 1))
    curves["train_s"][0] = spent + time.perf_counter() - t0
    curves["snapshots"].append(
        rollout(ag.sender, snap_sketches, {"size": g.size, **draw_kw})[1][:, -1]
    )
    return ag, curves


def state_models(state: dict) -> torch.nn.ModuleDict:
    return torch.nn.ModuleDict(state)
