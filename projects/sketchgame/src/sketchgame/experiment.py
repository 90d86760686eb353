"""One seed of the experiment: world, every setting's training, the probes, the per-seed metrics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from sketchgame import probes
from sketchgame.referents import sample_games
from sketchgame.render import draw
from sketchgame.train import n_games_of, train_setting
from sketchgame.world import World, build_world, load_world, save_world

SPLITS = ("seen", "unseen_inst", "unseen_cat")


def render_gradient_error(seed: int) -> float:
    """Max relative error of the splat renderer's analytic gradient against central finite
    differences (float64, random strokes): the G_render gate."""
    g = torch.Generator().manual_seed(seed)
    s = (0.2 + 0.6 * torch.rand(1, 3, 6, generator=g, dtype=torch.float64)).requires_grad_()
    w = torch.rand(1, 1, 16, 16, generator=g, dtype=torch.float64)

    def f(x: torch.Tensor) -> torch.Tensor:
        return (w * draw(torch.zeros(1, 1, 16, 16, dtype=x.dtype), x, 0.7, 6, 1.5)).sum()

    (grad,) = torch.autograd.grad(f(s), s)
    eps, fd = 1e-6, torch.zeros_like(grad)
    with torch.no_grad():
        for i in range(s.numel()):
            e = torch.zeros_like(s).view(-1)
            e[i] = eps
            fd.view(-1)[i] = (f(s + e.view_as(s)) - f(s - e.view_as(s))) / (2 * eps)
    return ((grad - fd).abs().max() / fd.abs().max()).item()


def eval_games(world: World, n: int, seed: int) -> dict:
    """Fixed greedy-evaluation game lists per split; unseen categories play only among
    themselves."""
    rng = np.random.default_rng(10_000 + seed)
    spec = {
        "seen": (world.seen, world.train_inst),
        "unseen_inst": (world.seen, world.test_inst),
        "unseen_cat": (world.unseen, np.concatenate([world.train_inst, world.test_inst])),
    }
    return {k: sample_games(world.cats, c, i, n, 0.6, rng) for k, (c, i) in spec.items()}


def _features(world: World, canvases: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return world.encoder(canvases).numpy()


def probe_setting(cfg, world: World, ag, setting: str, games: dict, seed: int) -> tuple[dict, dict]:
    """Communication per split, forced-step accuracy, drift, semanticity, symbolicity."""
    g = cfg.game
    draw_kw = {"sigma": g.sigma, "k": g.points_per_stroke, "gain": g.gain}
    full_kw = {"size": g.size, **draw_kw}
    m: dict[str, float] = {}
    res = {k: probes.communication(ag, world, games[k], setting, draw_kw) for k in SPLITS}
    for k in SPLITS:
        m[f"{setting}_{k}_acc"], m[f"{setting}_{k}_steps"] = res[k]["acc"], res[k]["steps"]
        m[f"{setting}_{k}_timeout"] = res[k]["timeout"]
    m[f"{setting}_acc"], m[f"{setting}_steps"] = res["seen"]["acc"], res["seen"]["steps"]
    m[f"{setting}_forced_step1"] = res["seen"]["forced"][0]
    m[f"{setting}_forced_last"] = res["seen"]["forced"][-1]
    f_seen = _features(world, res["seen"]["final_canvas"])
    lab_seen = games["seen"].sketch_cat
    r, p = probes.semanticity(f_seen, lab_seen, world.cats, cfg.eval.n_perm, seed)
    m[f"{setting}_semanticity_r"], m[f"{setting}_semanticity_p"] = r, p
    rng = np.random.default_rng(seed)
    train_idx = np.concatenate(
        [
            rng.permutation(np.flatnonzero(lab_seen == c))[: cfg.eval.symbolicity_shots]
            for c in np.unique(lab_seen)
        ]
    )
    f_test = _features(world, res["unseen_inst"]["final_canvas"])
    m[f"{setting}_symbolicity_acc"] = probes.symbolicity(
        f_seen[train_idx], lab_seen[train_idx], f_test, games["unseen_inst"].sketch_cat
    )
    inst, scale = world.train_inst, None
    for name, cats in (("seen", world.seen), ("unseen", world.unseen)):
        f_init = probes.step_features(world.sender0, world, cats, inst, full_kw)
        f_now = probes.step_features(ag.sender, world, cats, inst, full_kw)
        if (
            scale is None
        ):  # one unit for both: the seen categories' initial between-category distance
            scale = probes.between_category_distance(f_init[:, :, -1])
        m[f"{setting}_drift_{name}"] = probes.drift(f_now, f_init, scale)
    return m, {"forced": res["seen"]["forced"]}


def lookup_semanticity(cfg, world: World, seed: int) -> float:
    """r of the lookup sender (one fixed random stroke set per seen category): the negative
    control."""
    g = cfg.game
    canv = probes.lookup_canvases(
        len(world.seen),
        g.strokes_per_step * g.max_step,
        g.size,
        {"sigma": g.sigma, "k": g.points_per_stroke, "gain": g.gain},
        seed,
    )
    f = _features(world, canv)
    r, _ = probes.semanticity(f, world.seen, world.cats, cfg.eval.n_perm, seed)
    return r


def run_seed(
    cfg,
    seed: int,
    folder: Path,
    checkpointer: Callable,
    log: Callable,
    boundary: Callable,
    progress: Callable,
) -> dict:
    """World (cached in the unit folder), each setting, probes → metrics and figure material."""
    world_file = folder / "world.pt"
    world = load_world(cfg, seed, world_file) if world_file.exists() else None
    if world is None:
        world = build_world(cfg, seed)
        save_world(world, world_file)
    metrics = {k: float(v) for k, v in world.facts.items()}
    metrics["render_grad_err"] = render_gradient_error(seed)
    games = eval_games(world, cfg.eval.n_games, seed)
    art: dict = {}
    for setting in cfg.settings:
        ag, curves = train_setting(
            cfg, world, setting, seed, checkpointer(setting), log, boundary, progress
        )
        m, extra = probe_setting(cfg, world, ag, setting, games, seed)
        metrics |= m
        seconds = curves["train_s"][0] / n_games_of(cfg.train, setting)
        metrics[f"{setting}_seconds_per_game"] = seconds
        art[f"{setting}_acc_curve"] = np.asarray(curves["acc"], np.float32)
        art[f"{setting}_steps_curve"] = np.asarray(curves["steps"], np.float32)
        art[f"{setting}_forced"] = np.asarray(extra["forced"], np.float32)
        if setting == "complete":
            art["snapshots"] = torch.stack(curves["snapshots"]).numpy()
            metrics["length_shrinkage"] = probes.shrinkage(
                curves["acc"], curves["steps"], cfg.eval.window, cfg.eval.delta
            )
    metrics["semanticity_r_lookup"] = lookup_semanticity(cfg, world, seed)
    metrics |= _claim_names(metrics)
    return {
        "metrics": metrics,
        "facts": {k: round(float(v), 4) for k, v in world.facts.items()},
        **art,
    }


def _claim_names(m: dict[str, float]) -> dict[str, float]:
    """The names the claims read (issue's metrics.json keys) from the per-setting metrics."""
    out = {
        "seen_steps": m["complete_seen_steps"],
        "unseen_inst_steps": m["complete_unseen_inst_steps"],
        "unseen_cat_steps": m["complete_unseen_cat_steps"],
        "drift_seen": m["complete_drift_seen"],
        "drift_unseen": m["complete_drift_unseen"],
        "semanticity_r": m["complete_semanticity_r"],
        "semanticity_r_senderfixed": m["senderfixed_semanticity_r"],
        "symbolicity_acc": m["complete_symbolicity_acc"],
        "symbolicity_acc_senderfixed": m["senderfixed_symbolicity_acc"],
    }
    gap = m["complete_unseen_cat_steps"] - m["complete_seen_steps"]
    gap_sf = m["senderfixed_unseen_cat_steps"] - m["senderfixed_seen_steps"]
    out["familiarity_switch"] = gap - gap_sf
    return out
