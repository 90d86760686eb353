"""The joint 2-D VAE experiment (profiles ``joint-smoke``, ``cpu-joint``) under the shared
lifecycle: per seed one unit per method (LDEBM with and without the k-means pseudo-labels):
training on the official-scale 16-Gaussian grid, resumable from checkpoints, then the held-out
scores. The unmodified ``cpu-joint`` profile writes ``results/cpu/joint_metrics.json`` and the
marked ``joint`` section of RESULTS.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ldebm import joint
from ldebm.clustering import pseudo_labels
from ldebm.configs import JOINT_PROFILES, JointConfig
from ldebm.joint_claims import build_joint_evidence
from ldebm.metrics import symbol_nmi
from ldebm.notes import joint_notes
from ldebm.prior import Hooks
from ldebm.sections import side_target, write_side_report
from ldebm.target import grid16_official, pinwheel
from reprokit.config import to_dict
from reprokit.lifecycle import Session
from reprokit.runlog import Run
from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer, capture_rng_state

SECTIONS = {  # committed profile -> (RESULTS.md section tag, heading)
    "cpu-joint": ("joint", "Joint 2-D VAE: clustering and the symbols' NMI (profile `cpu-joint`)"),
    "cpu-joint-pinwheel": (
        "pinwheel",
        "Joint 2-D VAE on the pinwheel: clustering and the symbols' NMI (profile "
        "`cpu-joint-pinwheel`)",
    ),
}


def _data(cfg: JointConfig, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pool, pool ids, held-out points, held-out ids) of the seed (the same for every method)."""
    sample = grid16_official().sample if cfg.dataset == "grid" else pinwheel
    pool, pool_ids = sample(cfg.pool_size, np.random.default_rng([seed, 0]))
    held, held_ids = sample(cfg.n_eval, np.random.default_rng([seed, 1]))
    return pool, pool_ids, held, held_ids


def method_unit(cfg: JointConfig, seed: int, method: str, folder: Path, session: Session) -> dict:
    """Train one (method, seed) joint VAE (resumable), then score it on held-out points."""
    seed_everything(seed, torch=True)
    mc = cfg.method(method)
    pool, _, held, held_ids = _data(cfg, seed)
    lrn = joint.build(mc)
    opts = lrn.optimizers()
    mods = torch.nn.ModuleDict({"ae": lrn.ae, "ebm": lrn.ebm})
    ckpt = Checkpointer(folder / "checkpoints", every=mc.ckpt_every, config=to_dict(cfg))
    start = ckpt.resume(mods, opts[1])
    if ckpt.state is not None:
        opts[0].load_state_dict(ckpt.state["ae_optimizer"])
        lrn.train_time_s = float(ckpt.state["train_time_s"])

    def save(step: int) -> None:
        state = {"model": mods.state_dict(), "optimizer": opts[1].state_dict()}
        extra = {"ae_optimizer": opts[0].state_dict(), "train_time_s": lrn.train_time_s}
        ckpt.save(step, {**state, **extra, "rng": capture_rng_state()})

    with Run("ldebm", session.profile, to_dict(cfg), seed=seed, folder=folder) as run:
        hooks = Hooks(
            log=lambda step, **kw: run.log(step, {f"joint_{method}/{k}": v for k, v in kw.items()}),
            progress=run.progress,
            boundary=lambda step, s: session.boundary(
                f"at joint {method} seed {seed} iteration {step}", s
            ),
        )
        joint.train(lrn, pool, seed, opts, start, hooks, save)
        out = _scores(lrn, mc, pool, held, held_ids, seed, method)
        run.finish(out)
    return {"metrics": out}


def _scores(lrn, mc, pool, held, held_ids, seed: int, method: str) -> dict[str, float]:
    """Symbol NMI, the k-means reference NMI, reconstruction vs the copy-free floor."""
    mu_held = lrn.means(held)
    kmeans = pseudo_labels(mu_held, mc.n_classes, mc.pca_dim, mc.l2_normalize, seed)
    out = {
        f"joint/nmi/{method}": symbol_nmi(lrn.symbols(held), held_ids),
        f"joint/nmi/kmeans_{method}": symbol_nmi(kmeans, held_ids),
        f"joint/recon_mse/{method}": lrn.reconstruction_mse(held, False, seed),
        f"joint/recon_mse_shuffled/{method}": lrn.reconstruction_mse(held, True, seed),
        f"train_time_s/joint_{method}": lrn.train_time_s,
    }
    if mc.cls_weight > 0:
        final = pseudo_labels(lrn.means(pool), mc.n_classes, mc.pca_dim, mc.l2_normalize, seed)
        out["joint/kmeans_min_share/ldebm"] = float(
            np.bincount(final, minlength=mc.n_classes).min() / len(final)
        )
    return out


def run_joint(cfg: JointConfig, session: Session) -> dict[str, list[float]]:
    """Every unit in order; the per-seed metrics."""
    per_seed: dict[str, list[float]] = {}
    for seed in cfg.seeds:
        for m in cfg.methods:
            res = session.unit(
                f"joint-{m}-seed{seed}", lambda d, s=seed, m=m: method_unit(cfg, s, m, d, session)
            )
            for k, v in res["metrics"].items():
                per_seed.setdefault(k, []).append(float(v))
    return per_seed


def write_joint_report(
    cfg: JointConfig, profile: str, command: Callable[[bool], str], session: Session, per_seed
) -> None:
    """Judge the evidence; joint_metrics.json and the RESULTS.md section (committed) or the
    run folder's report."""
    committed = profile if profile in SECTIONS else "cpu-joint"
    tag, heading = SECTIONS[committed]
    target = side_target(committed, profile, cfg, JOINT_PROFILES, __file__, session)
    ev = build_joint_evidence(profile, cfg.seeds, per_seed)
    info = {m: to_dict(cfg.method(m)) for m in cfg.methods}
    notes = lambda doc: joint_notes(doc, cfg)  # noqa: E731
    write_side_report(target, ev, info, tag, heading, command, notes, session)
