"""Probes of the trained agents (official evaluations, with the note's fixes).

* ``communication``: greedy games on a fixed game list per split (seen referents, unseen
  instances, unseen categories with every candidate unseen): accuracy (a timeout fails) and mean
  game length (a timeout counts T); ``forced_accuracy``: guess forced at step t (``eval_by_step``).
* ``drift``: frozen-feature distance between the sender's canvases and the pretrained sender's
  canvases of the same referents, mean over steps, in units of the mean distance between the
  initial sketches' category means (note item 3).
* ``semanticity``: Pearson r between attribute similarity and cosine similarity of per-category
  mean sketch features, off-diagonal pairs only, with a Mantel permutation p-value (item 7).
* ``symbolicity``: logistic regression on frozen features of the final sketches, k per category
  from the training referents, tested on unseen instances; the final fit, no best-of (item 8).
* ``shrinkage``: peak minus final running-average game length, the peak taken where the running
  accuracy is within δ of its final value (item 4).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import pearsonr
from sketchgame import game as G
from sketchgame.referents import Games, attribute_similarity
from sketchgame.sketcher import rollout
from sklearn.linear_model import LogisticRegression


@torch.no_grad()
def communication(ag, world, games: Games, setting: str, draw_kw: dict) -> dict[str, float]:
    """Greedy play: accuracy, mean length, forced-guess accuracy at every step, and each game's
    final canvas (at its guess)."""
    batch = world.batch(games)
    ro = G.play(ag.sender, ag.receiver, ag.value, world.encoder, batch, setting, draw_kw, False)
    idx, act = G.first_guess(ro.actions)
    T = ro.actions.shape[1]
    guess = ro.probs[..., :3].argmax(2)  # (B, T) the forced guess at each step
    forced = (guess == batch.target[:, None]).float().mean(0)
    final = ro.canvases[torch.arange(len(idx)), idx.clamp(max=T - 1)]
    return {
        "acc": (act == batch.target).float().mean().item(),
        "steps": (idx.clamp(max=T - 1) + 1).float().mean().item(),
        "timeout": (idx == T).float().mean().item(),
        "forced": forced.tolist(),
        "final_canvas": final,
    }


@torch.no_grad()
def step_features(sender, world, cats: np.ndarray, inst: np.ndarray, draw_kw: dict) -> torch.Tensor:
    """Encoder features of the sender's canvases after each step: (C, I, T, D)."""
    sk = world.sketches[cats][:, inst].flatten(0, 1)
    _, canv = rollout(sender, sk, draw_kw)
    N, T = canv.shape[:2]
    f = world.encoder(canv.flatten(0, 1)).view(N, T, -1)
    return f.view(len(cats), len(inst), T, -1)


def between_category_distance(f_final: torch.Tensor) -> float:
    """Mean Euclidean distance between category-mean features: f (C, I, D) → scalar."""
    mu = f_final.mean(1)
    d = torch.cdist(mu, mu)
    C = len(mu)
    return (d.sum() / (C * (C - 1))).item()


def drift(f_now: torch.Tensor, f_init: torch.Tensor, scale: float) -> float:
    """Mean over referents and steps of ‖f(c_t) − f(c_t^init)‖, divided by ``scale``."""
    return ((f_now - f_init).norm(dim=-1).mean() / scale).item()


def offdiag(m: np.ndarray) -> np.ndarray:
    return m[np.triu_indices(len(m), 1)]


def semanticity(
    features: np.ndarray, labels: np.ndarray, cats, n_perm: int, seed: int
) -> tuple[float, float]:
    """(Pearson r over off-diagonal category pairs, Mantel permutation p-value, one-sided)."""
    ids = np.unique(labels)
    mu = np.stack([features[labels == c].mean(0) for c in ids])
    mu = mu / np.linalg.norm(mu, axis=1, keepdims=True).clip(1e-8)
    cos = mu @ mu.T
    sim = attribute_similarity([cats[c] for c in ids])
    r = float(pearsonr(offdiag(sim), offdiag(cos)).statistic)
    rng = np.random.default_rng(seed)
    null = [
        pearsonr(offdiag(sim), offdiag(cos[np.ix_(p, p)])).statistic
        for p in (rng.permutation(len(ids)) for _ in range(n_perm))
    ]
    p = (1 + sum(v >= r for v in null)) / (1 + n_perm)
    return r, float(p)


def symbolicity(
    f_train: np.ndarray, y_train: np.ndarray, f_test: np.ndarray, y_test: np.ndarray
) -> float:
    """Accuracy of a logistic-regression sketch classifier (final fit)."""
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(f_train, y_train)
    return float((clf.predict(f_test) == y_test).mean())


def running_mean(x: list[float], window: int) -> np.ndarray:
    x = np.asarray(x, float)
    w = max(1, min(window, len(x)))
    return np.convolve(x, np.ones(w) / w, mode="valid")


def shrinkage(acc: list[float], steps: list[float], window: int, delta: float) -> float:
    """Peak running-average length among points whose running accuracy is within δ of the
    final running accuracy, minus the final running-average length (0 for constant lengths)."""
    a, s = running_mean(acc, window), running_mean(steps, window)
    ok = a >= a[-1] - delta
    return float(s[ok].max() - s[-1])


def lookup_canvases(
    n_cats: int, n_strokes: int, size: int, draw_kw: dict, seed: int
) -> torch.Tensor:
    """Negative control of semanticity: a "lookup" sender drawing one fixed random stroke set per
    category, unrelated to its attributes: (C, 1, H, W)."""
    from sketchgame.render import draw

    g = torch.Generator().manual_seed(seed)
    strokes = 0.2 + 0.6 * torch.rand(n_cats, n_strokes, 6, generator=g)
    return draw(torch.zeros(n_cats, 1, size, size), strokes, **draw_kw)
