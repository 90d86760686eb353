"""Why does LDEBM's prior miss the fit gate on one seed? ``python -m ldebm.diagnose --seed 2``.

Trains the cpu profile's LDEBM prior for one seed exactly as ``reproduce`` does (same pool,
batches, k-means and seeds: the same network as the cpu unit), keeping snapshots along the way,
then samples it with one factor changed at a time and prints precision within 2σ (the fit
gate's metric), mode KL and the per-level tails (fraction beyond the exact diffused target's 99%
radius):

* training length: the snapshots at a third and two thirds of the iterations;
* Langevin steps: 4× the steps per level at sampling time;
* which level: ancestral sampling with one level's learned conditional replaced by the exact
  conditional of the target (``evaluate.ExactLevelEnergy``), each level in turn, and with every
  level above 0 exact;
* the time embedding: the cosine similarity of the time MLP's rows (levels the network cannot
  tell apart share their energy).

``--ldebm.<field> value`` overrides the trained config (e.g. ``--ldebm.grad_clip 1e9`` or
``--ldebm.lr 1e-4``); prints one table, writes nothing.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
from torch import nn

from ldebm import evaluate as ev
from ldebm import prior
from ldebm.configs import cpu
from ldebm.langevin import recovery_langevin
from ldebm.metrics import mode_kl, precision
from ldebm.target import grid16
from reprokit.seeding import seed_everything


def ancestral(ebm: nn.Module, sched, n: int, steps: int, seed: int) -> list[np.ndarray]:
    """Progressive ancestral sampling [z_{T−1}, …, z_0] with a fixed noise seed."""
    torch.manual_seed(seed + 10_000)
    x, levels = torch.randn(n, 2), []
    for level in range(sched.T - 1, -1, -1):
        t = torch.full((n,), level, dtype=torch.long)
        x = recovery_langevin(ebm, sched, x, t, steps)
        levels.append(x.numpy())
    return levels


def scores(levels: list[np.ndarray], sched, seed: int) -> dict[str, float]:
    """Precision, mode KL and tails per level of one sampling run."""
    target = grid16()
    tails = ev.level_tails(levels, target, sched, np.random.default_rng([seed, 3]))
    out = {"precision": precision(target, levels[-1]), "mode_kl": mode_kl(target, levels[-1])}
    out.update({f"tail z_{t}": v for t, v in tails.items()})
    return out


def train_with_snapshots(mc, seed: int, n_eval: int) -> tuple[prior.Learner, dict, float]:
    """The cpu unit's training (``reproduce.method_unit``) with EBM snapshots at 1/3 and 2/3."""
    from ldebm.reproduce import _rngs

    seed_everything(seed, torch=True)
    pool, _ = grid16().sample(cpu().experiment.pool_size, _rngs(seed)[0])
    lrn = prior.build("ldebm", mc)
    opt = torch.optim.Adam(lrn.ebm.parameters(), lr=mc.lr)
    hooks = prior.Hooks(log=lambda *a, **k: None, progress=lambda r, **k: r, boundary=lambda *a: 0)
    snaps, start, t0 = {}, 0, time.perf_counter()
    for stop in (mc.iterations // 3, 2 * mc.iterations // 3, mc.iterations):
        seg = copy.copy(mc)
        seg.iterations = stop
        prior.train(lrn, seg, pool, seed, opt, start, hooks, lambda i: None)
        snaps[stop] = copy.deepcopy(lrn.ebm.state_dict())
        start = stop
    return lrn, snaps, time.perf_counter() - t0


def time_similarity(ebm: nn.Module) -> float:
    """Largest cosine similarity between two different levels' time-MLP rows."""
    with torch.no_grad():
        rows = nn.functional.normalize(ebm.time_table(), dim=1)
        sim = rows @ rows.T
    return float((sim - 2 * torch.eye(len(sim))).max())


def main(argv: list[str] | None = None) -> None:
    """Train one seed, then print the table of variants."""
    parser = argparse.ArgumentParser(prog="ldebm.diagnose", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--n", type=int, default=2000, help="prior samples per variant")
    args, rest = parser.parse_known_args(argv)
    torch.set_num_threads(1)
    mc = cpu().ldebm
    for key, value in zip(rest[::2], rest[1::2]):
        field = key.removeprefix("--ldebm.")
        setattr(mc, field, type(getattr(mc, field))(float(value)))
    lrn, snaps, secs = train_with_snapshots(mc, args.seed, args.n)
    target, sched = grid16(), lrn.sched
    exact = ev.exact_levels(target, sched, range(sched.T))
    steps = mc.langevin_steps

    def sample(ebm: nn.Module, n_steps: int = steps) -> list[np.ndarray]:
        return ancestral(ebm, sched, args.n, n_steps, args.seed)

    rows = {}
    for it, state in snaps.items():
        lrn.ebm.load_state_dict(state)
        rows[f"learned, {it} iterations"] = sample(lrn.ebm)
    rows[f"learned, {4 * steps} steps per level"] = sample(lrn.ebm, 4 * steps)
    for t in range(sched.T - 1, -1, -1):
        rows[f"level {t} exact"] = sample(ev.LevelMix(lrn.ebm, {t: exact[t]}))
    upper = ev.LevelMix(lrn.ebm, {t: exact[t] for t in range(1, sched.T)})
    rows["levels 5…1 exact, level 0 learned"] = sample(upper)
    rows["every level exact"] = sample(ev.LevelMix(lrn.ebm, exact))
    table = {name: scores(levels, sched, args.seed) for name, levels in rows.items()}
    cols = list(next(iter(table.values())))
    print(f"seed {args.seed}, trained {secs:.0f} s; overrides: {' '.join(rest) or 'none'}")
    print(f"time-MLP rows: largest cosine similarity between levels {time_similarity(lrn.ebm):.3f}")
    print("| variant | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, s in table.items():
        print(f"| {name} | " + " | ".join(f"{s[c]:.4f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
