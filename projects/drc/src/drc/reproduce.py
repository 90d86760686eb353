"""Reproduce DRC's claims: `python -m drc.reproduce --profile {smoke,cpu,paper} [--key value]`.

For every seed: train DRC and the no-pixel-re-assignment ablation, infer held-out masks by posterior
Langevin from noise, score IoU / Dice and the fit diagnostics the gates read; evaluate the
label-free baselines on the same images; judge the gates and claims of `drc.claims` by the shared
rule and write metrics.json (reprokit.metrics/1), figures and RESULTS.md (committed: cpu profile).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from drc import baselines
from drc.claims import build_evidence
from drc.clevr import load_clevr
from drc.configs import PROFILES, DRCConfig
from drc.data import load_folder, load_sprites
from drc.evaluate import fit_diagnostics, infer_test, iou_dice, mean_colour_l1, render_batches
from drc.train import fit, resolve_device

from reprokit.claims import MIN_SEEDS, Evidence
from reprokit.config import override, parse, to_dict
from reprokit.report import console_summary, format_mean_std, results_dir, write_results
from reprokit.runlog import Run
from reprokit.seeding import seed_everything

PROJECT_DIR = Path(__file__).resolve().parents[2]


def load_data(cfg: DRCConfig) -> dict[str, np.ndarray]:
    """x_train, m_train, x_test, m_test (images (N,3,H,W) in [-1,1], masks (N,H,W) bool)."""
    d = cfg.data
    if d.source == "sprites":
        tr = load_sprites(d.n_train, d.image_size, d.max_objects, d.data_seed)
        te = load_sprites(d.n_test, d.image_size, d.max_objects, d.data_seed + 1)
        return {"x_train": tr["x"], "m_train": tr["mask"], "x_test": te["x"], "m_test": te["mask"]}
    if d.source == "clevr":
        tr = load_clevr(d.n_train, d.image_size, d.max_objects, d.data_seed)
        te = load_clevr(d.n_test, d.image_size, d.max_objects, d.data_seed + 1)
        return {"x_train": tr["x"], "m_train": tr["mask"], "x_test": te["x"], "m_test": te["mask"]}
    if d.image_dir is None or d.mask_dir is None:
        raise ValueError("data.source=folder needs --data.image_dir and --data.mask_dir")
    a = load_folder(d.image_dir, d.mask_dir, d.image_size)
    n_test = min(d.n_test, len(a["x"]) - 1)
    if n_test < 1:
        raise ValueError(
            f"{d.image_dir}: need at least 2 images (train + held-out), got {len(a['x'])}"
        )
    return {
        "x_train": a["x"][:-n_test],
        "m_train": a["mask"][:-n_test],
        "x_test": a["x"][-n_test:],
        "m_test": a["mask"][-n_test:],
    }


def output_dir(cfg: DRCConfig, profile: str) -> Path:
    return results_dir("drc", profile, anchor=__file__, out=cfg.out)


def run_variant(
    cfg: DRCConfig,
    data: dict[str, np.ndarray],
    seed: int,
    out: Path,
    profile: str,
    device: torch.device,
) -> dict:
    """Train one variant with one seed; held-out (from noise) and transductive (chain) scores."""
    seed_everything(seed)
    tag = "drc" if cfg.model.reassign else "no_reassign"
    with Run("drc", profile, cfg, seed=seed, root=out / "runs", name=tag) as run:
        tr = fit(
            cfg, data["x_train"], seed, run, device, run.dir / "checkpoint.pt", data["m_train"]
        )
        x_test = torch.from_numpy(data["x_test"]).to(device)
        t0 = time.perf_counter()
        g = torch.Generator().manual_seed(10_000 + seed)
        _, rend = infer_test(
            tr.model, tr.ebm, x_test, cfg.langevin, cfg.loss, cfg.train.eval_batch, g
        )
        infer_s = (time.perf_counter() - t0) / len(x_test)
        iou, dice = iou_dice(rend["pi_f"] > 0.5, data["m_test"])
        # Transductive protocol (the official textured/CLEVR test set is training images): the
        # persistent posterior chains of the training images.
        rend_tr = render_batches(tr.model, tr.chains.post, cfg.train.eval_batch)
        iou_tr, _ = iou_dice(rend_tr["pi_f"] > 0.5, data["m_train"])
        res = {
            "pred_fg": float((rend["pi_f"] > 0.5).mean()),  # predicted foreground fraction
            "iou": float(iou.mean()),
            "dice": float(dice.mean()),
            "iou_train": float(iou_tr.mean()),
            "iters_per_s": tr.iters_per_s,
            "infer_s_per_image": infer_s,
            **fit_diagnostics(rend, data["x_test"], data["m_test"]),
        }
        run.finish(res)
    return {**res, "render": rend, "history": tr.history}


# run_variant key -> metric name (suffixed with /<variant>), all on the held-out images except
# iou_train (the transductive protocol) and the speeds.
PER_SEED = {
    "iou": "iou",
    "dice": "dice",
    "iou_train": "iou_train",
    "pred_fg": "pred_fg_fraction",
    "recon": "recon_l1",
    "fg_object": "l1_object/fg_expert",
    "bg_object": "l1_object/bg_expert",
    "fg_background": "l1_background/fg_expert",
    "bg_background": "l1_background/bg_expert",
    "disp_px": "warp_displacement_px",
    "iters_per_s": "iters_per_s",
    "infer_s_per_image": "infer_s_per_image",
}


def figure(
    path: Path, data: dict[str, np.ndarray], rend: dict[str, np.ndarray], n: int = 10
) -> Path:
    """Rows: image | ground-truth mask | DRC mask | foreground pi_f x_f | background x~_b."""
    from reprokit import plots

    def as_img(m: np.ndarray) -> np.ndarray:
        return np.repeat(m[:, None].astype(np.float32) * 2 - 1, 3, axis=1)

    pi = rend["pi_f"][:, None]
    rows = {
        "image": data["x_test"][:n],
        "GT mask": as_img(data["m_test"][:n]),
        "DRC mask": as_img(rend["pi_f"][:n] > 0.5),
        "fg pi_f x_f": (pi * rend["x_f"] + (1 - pi) * 1.0)[:n],
        "bg x~_b": rend["x_bw"][:n],
        "composite": rend["x_hat"][:n],
    }
    return plots.image_rows(rows, path, title="DRC on held-out images (posterior from noise)")


def baseline_scores(data: dict[str, np.ndarray], with_baselines: bool) -> dict[str, float]:
    """Deterministic numbers computed once on the held-out images: baselines and mean colour."""
    x, m = data["x_test"], data["m_test"]
    once = {"recon_l1/mean_colour": mean_colour_l1(x), "fg_fraction/test": float(m.mean())}
    if with_baselines:
        for name, fn in (
            ("allfg", baselines.all_foreground),
            ("kmeans", baselines.kmeans),
            ("grabcut", baselines.grabcut),
        ):
            iou, dice = iou_dice(fn(x), m)
            once[f"iou/{name}"], once[f"dice/{name}"] = float(iou.mean()), float(dice.mean())
    return once


def curve_figures(out: Path, curves: dict, figs: dict[str, Path]) -> None:
    """Transductive chain IoU and -Q during training, mean ± std over seeds."""
    from reprokit import plots

    lc = {k: (st, np.array(v)) for k, (st, v) in curves["iou"].items()}
    figs["Transductive IoU of the persistent posterior chains during training"] = (
        plots.learning_curves(lc, out / "iou_train.png", ylabel="IoU (pi_f > 0.5)")
    )
    lc = {k: (st, np.array(v)) for k, (st, v) in curves["Q"].items()}
    figs["M-step loss -Q (mean ± std over seeds)"] = plots.learning_curves(
        lc, out / "loss.png", ylabel="-Q"
    )


def main(cfg: DRCConfig, profile: str) -> dict:
    """Run the whole comparison for `profile`; write metrics.json and RESULTS.md; the document."""
    t_start = time.perf_counter()
    if len(cfg.seeds) < MIN_SEEDS:
        raise ValueError(f"seeds: the claims need at least {MIN_SEEDS} seeds, got {cfg.seeds}")
    out = output_dir(cfg, profile)
    device = resolve_device(cfg.device)
    data = load_data(cfg)
    variants = [True, False] if cfg.ablation else [True]
    per_seed: dict[str, list[float | None]] = {}
    best_render = None
    curves: dict[str, dict[str, tuple[list[int], list[list[float]]]]] = {"Q": {}, "iou": {}}
    for reassign in variants:
        vcfg = override(cfg, {"model.reassign": reassign})
        name = "drc" if reassign else "no_reassign"
        for seed in cfg.seeds:
            res = run_variant(vcfg, data, seed, out, profile, device)
            for key, metric in PER_SEED.items():
                if reassign or key != "disp_px":  # the ablation has no warp
                    per_seed.setdefault(f"{metric}/{name}", []).append(res[key])
            if reassign and best_render is None:
                best_render = res["render"]
            steps = [h["step"] for h in res["history"]]
            curves["Q"].setdefault(name, (steps, []))[1].append([-h["Q"] for h in res["history"]])
            curves["iou"].setdefault(name, (steps, []))[1].append(
                [h["iou_chains"] for h in res["history"]]
            )
    ev = build_evidence(profile, cfg.seeds, per_seed, baseline_scores(data, cfg.baselines))
    figs = {
        f"Held-out masks and reconstructions (seed {cfg.seeds[0]})": figure(
            out / "masks.png", data, best_render
        )
    }
    curve_figures(out, curves, figs)
    wall = time.perf_counter() - t_start
    info = run_info(cfg)
    metrics_path = ev.write(out / "metrics.json", wall, info=info)
    doc = ev.to_dict(wall, info=info)
    # The cpu profile's report is the committed RESULTS.md; other profiles / --out write beside
    # their metrics.
    committed = profile == "cpu" and cfg.out is None
    write_results(
        PROJECT_DIR / "RESULTS.md" if committed else out / "RESULTS.md",
        doc,
        title=f"DRC: {profile}-profile results ({cfg.data.source}, {cfg.data.image_size}px)",
        figures=figs,
        command="make reproduce PROJECT=drc"
        if committed
        else f"python -m drc.reproduce --profile {profile}",
        notes=notes(cfg, ev),
        metrics_path=metrics_path,
    )
    print(console_summary(doc))
    return doc


def run_info(cfg: DRCConfig) -> dict:
    """Free-form extras for metrics.json: the resolved config without machine paths."""
    c = to_dict(cfg)
    c.pop("out", None)
    c["data"] = {k: v for k, v in c["data"].items() if k not in ("image_dir", "mask_dir")}
    return {
        "config": c,
        "protocol": "held-out images, posterior Langevin from noise for langevin.infer_test "
        "steps, mask = pi_f > 0.5; iou_train/*: persistent chains of the training images",
    }


def notes(cfg: DRCConfig, ev: Evidence) -> str:
    """Measured context for RESULTS.md, every number read from the evidence."""

    def f(name: str) -> str:
        return format_mean_std(ev.metrics[name]) if name in ev.metrics else "—"

    abl = cfg.ablation
    lines = [
        f"- Transductive IoU (persistent chains of the training images): DRC {f('iou_train/drc')}"
        + (f", no re-assignment {f('iou_train/no_reassign')}" if abl else "")
        + ".",
        f"- Held-out Dice: DRC {f('dice/drc')}; k-means {f('dice/kmeans')}; GrabCut "
        f"{f('dice/grabcut')}; all-foreground {f('dice/allfg')}.",
        f"- Foreground fraction of the held-out images {f('fg_fraction/test')}; predicted by DRC "
        f"{f('pred_fg_fraction/drc')}.",
        "- Held-out L1 ([-1, 1] units), object / background pixels: DRC foreground expert "
        f"{f('l1_object/fg_expert/drc')} / {f('l1_background/fg_expert/drc')}; re-assigned "
        f"background expert {f('l1_object/bg_expert/drc')} / {f('l1_background/bg_expert/drc')}.",
        f"- Mean warp displacement on held-out images: {f('warp_displacement_px/drc')} px "
        f"(canvas {cfg.data.image_size} px).",
        f"- Speed: {f('iters_per_s/drc')} training iterations/s; {f('infer_s_per_image/drc')} s "
        f"per held-out image for {cfg.langevin.infer_test} posterior steps from noise "
        f"(batch {cfg.train.eval_batch}).",
    ]
    return "\n".join(lines)


def cli(argv: list[str] | None = None) -> int:
    """Parse `--profile` and overrides (one-line errors, exit 2), then run main."""
    from reprokit.datasets import DatasetError

    profile, cfg = parse({k: f() for k, f in PROFILES.items()}, argv, prog="drc.reproduce")
    try:
        main(cfg, profile)
    except (DatasetError, ValueError, FileNotFoundError) as e:
        print(f"drc.reproduce: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
