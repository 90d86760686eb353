"""Reproduce DRC's claims: `python -m drc.reproduce --profile {smoke,cpu,paper} [--key value]`.

For every variant x seed (one lifecycle unit each): train DRC or the no-pixel-re-assignment
ablation, infer held-out masks by posterior Langevin from noise, score IoU / Dice and the fit
diagnostics the gates read; evaluate the label-free baselines on the same images (one more unit);
judge the gates and claims of `drc.claims` by the shared rule and write metrics.json
(reprokit.metrics/1), figures and RESULTS.md where `reprokit.lifecycle.report_target` says
(committed files: only the unmodified cpu profile).

Runs live in `<runs root>/drc/<profile>/<config hash>/` (`$REPROKIT_RUNS` or `./runs`):
rerunning the same command reuses finished units and resumes the interrupted one from its
checkpoints; `--fresh` starts over; SIGTERM / Ctrl-C checkpoint and stop after the current
training iteration.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from drc import baselines
from drc.claims import build_evidence
from drc.configs import PROFILES, DRCConfig
from drc.data import load_data
from drc.ebm import LatentEBM
from drc.evaluate import (
    fit_diagnostics,
    infer_test,
    iou_dice,
    mean_colour_l1,
    render_batches,
    trend_steps,
)
from drc.model import DRC
from drc.train import fit

from reprokit.claims import Evidence
from reprokit.config import override, parse, to_dict
from reprokit.lifecycle import (
    ReportTarget,
    Session,
    check_device,
    entry,
    footer,
    header,
    report_target,
)
from reprokit.report import (
    format_mean_std,
    keep_sections,
    marked_section,
    merge_section,
    write_results,
)
from reprokit.runlog import Run
from reprokit.torch_utils import Checkpointer

PROG = "drc.reproduce"
# The profile's measured wall time on 2 CPU cores (OMP_NUM_THREADS=1); shown in the header.
EXPECTED = {
    "smoke": "~30 s",
    "pilot": "~8 min on 2 loaded CPU cores",
    "cpu": "~20 min on 2 loaded CPU cores",
    "cpu-long": "~60 min on 2 loaded CPU cores",
    "paper": "days on one GPU",
    "paper-cub": "days on one GPU",
    "paper-textured": "days on one GPU",
    "paper-clevr": "days on one GPU",
}
FIGURE_IMAGES = 10  # held-out images shown in masks.png (the only renders a unit stores)
LONG = "cpu-long"  # writes results/cpu/long_* and a marked section (tag LONG) of RESULTS.md


def variant_name(cfg: DRCConfig) -> str:
    """`drc` (with pixel re-assignment) or `no_reassign` (the ablation)."""
    return "drc" if cfg.model.reassign else "no_reassign"


def variants(cfg: DRCConfig) -> list[DRCConfig]:
    """The configs of the trained variants: DRC, and the ablation when `ablation` is on."""
    return [
        override(cfg, {"model.reassign": r}) for r in ([True, False] if cfg.ablation else [True])
    ]


def checkpointer(vcfg: DRCConfig, unit_dir: Path) -> Checkpointer:
    """The unit's checkpoints, tagged with the variant's config (another config is refused)."""
    every = vcfg.train.ckpt_every or vcfg.train.iters
    return Checkpointer(unit_dir / "checkpoints", every=every, config=to_dict(vcfg))


def run_variant(
    vcfg: DRCConfig,
    data: dict[str, np.ndarray],
    seed: int,
    unit_dir: Path,
    session: Session,
    device: torch.device,
) -> dict:
    """One unit: train one variant with one seed; held-out (from noise) and transductive scores.

    Seeds itself (fit seeds torch from `seed`, the test-time chains use their own generator), so
    its numbers never depend on which units ran before it in this process.
    """
    with Run("drc", session.profile, vcfg, seed=seed, folder=unit_dir) as run:
        tr = fit(
            vcfg,
            data["x_train"],
            seed,
            run,
            device,
            checkpointer(vcfg, unit_dir),
            data["m_train"],
            session,
        )
        x_test = torch.from_numpy(data["x_test"]).to(device)
        t0 = time.perf_counter()
        g = torch.Generator().manual_seed(10_000 + seed)
        _, rend = infer_test(
            tr.model, tr.ebm, x_test, vcfg.langevin, vcfg.loss, vcfg.train.eval_batch, g
        )
        infer_s = (time.perf_counter() - t0) / len(x_test)
        iou, dice = iou_dice(rend["pi_f"] > 0.5, data["m_test"])
        trend = {
            n: float(iou_dice(rend[f"pi_f@{n}"] > 0.5, data["m_test"])[0].mean())
            for n in trend_steps(vcfg.langevin.infer_test)
        }
        # Transductive protocol (the official textured/CLEVR test set is training images): the
        # persistent posterior chains of the training images.
        rend_tr = render_batches(tr.model, tr.chains.post, vcfg.train.eval_batch)
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
        run.finish({**res, **{f"iou@{n}": v for n, v in trend.items()}})
    render = {k: v[:FIGURE_IMAGES] for k, v in rend.items() if "@" not in k}
    res["iou_trend"] = trend
    return {**res, "render": render, "history": tr.history}


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
    "disp_p90_px": "warp_displacement_p90_px",
    "disp_object_px": "warp_displacement_object_px",
    "iters_per_s": "iters_per_s",
    "infer_s_per_image": "infer_s_per_image",
}


def warp_field_image(disp: np.ndarray) -> np.ndarray:
    """Displacement (N, 2, H, W) in pixels -> RGB in [-1, 1]: red = x, green = y, blue = 0.

    Scaled by the largest displacement shown (grey = no displacement).
    """
    scale = max(float(np.abs(disp).max()), 1e-6)
    rgb = np.concatenate([disp / scale, np.zeros_like(disp[:, :1])], axis=1)
    return rgb * 0.9


def figure(
    path: Path, data: dict[str, np.ndarray], rend: dict[str, np.ndarray], n: int = FIGURE_IMAGES
) -> Path:
    """Rows: image | GT mask | DRC mask | foreground expert x_f | background expert x~_b |
    warp field | composite x^."""
    from reprokit import plots

    def as_img(m: np.ndarray) -> np.ndarray:
        return np.repeat(m[:, None].astype(np.float32) * 2 - 1, 3, axis=1)

    peak = float(np.linalg.norm(rend["disp"][:n], axis=1).max())
    rows = {
        "image": data["x_test"][:n],
        "GT mask": as_img(data["m_test"][:n]),
        "DRC mask pi_f>0.5": as_img(rend["pi_f"][:n] > 0.5),
        "fg expert x_f": rend["x_f"][:n],
        "bg expert x~_b": rend["x_bw"][:n],
        f"warp (x red, y green; max {peak:.1f} px)": warp_field_image(rend["disp"][:n]),
        "composite x^": rend["x_hat"][:n],
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
            # The transductive protocol's reference: the same baseline on the training images.
            iou_tr, _ = iou_dice(fn(data["x_train"]), data["m_train"])
            once[f"iou_train/{name}"] = float(iou_tr.mean())
    return once


def curve_figures(out: Path, curves: dict, figs: dict[str, Path], prefix: str = "") -> None:
    """Transductive chain IoU and -Q during training, mean ± std over seeds."""
    from reprokit import plots

    lc = {k: (st, np.array(v)) for k, (st, v) in curves["iou"].items()}
    figs["Transductive IoU of the persistent posterior chains during training"] = (
        plots.learning_curves(lc, out / f"{prefix}iou_train.png", ylabel="IoU (pi_f > 0.5)")
    )
    lc = {k: (st, np.array(v)) for k, (st, v) in curves["Q"].items()}
    figs["M-step loss -Q (mean ± std over seeds)"] = plots.learning_curves(
        lc, out / f"{prefix}loss.png", ylabel="-Q"
    )


def preflight(cfg: DRCConfig) -> torch.device:
    """Every check that needs no training, before the first step: the device and the shapes."""
    device = torch.device(check_device(cfg.device))
    with torch.device("meta"):  # image size vs decoder / encoder depth, without allocating
        for vcfg in variants(cfg):
            model = DRC(vcfg.model, vcfg.data.image_size)
            LatentEBM(vcfg.model, model.zs_dim)
    return device


def check_checkpoints(session: Session, cfg: DRCConfig) -> None:
    """Refuse an unreadable or foreign checkpoint of any unit now, not after the earlier units."""
    for vcfg in variants(cfg):
        for seed in cfg.seeds:
            name = f"{variant_name(vcfg)}-seed{seed}"
            folder = session.dir / "units" / name
            if session.state["units"].get(name) != "finished" and folder.is_dir():
                checkpointer(vcfg, folder).latest()


def run(argv: list[str], fresh: bool) -> None:
    """`python -m drc.reproduce [--profile P] [--key value ...] [--fresh]` under the lifecycle."""
    profile, cfg = parse({k: f() for k, f in PROFILES.items()}, argv, prog=PROG)
    device = preflight(cfg)
    data = load_data(cfg)  # paths, formats and sizes of the images are checked here
    with Session("drc", profile, cfg, fresh=fresh) as session:
        names = [variant_name(v) for v in variants(cfg)]
        extra = {"baselines": "all-foreground, k-means, GrabCut"} if cfg.baselines else {}
        data_line = f"{cfg.data.source} {cfg.data.image_size}px"
        facts = {"seeds": cfg.seeds, "methods": names, **extra, "data": data_line}
        header(session, expected=EXPECTED[profile], **facts)
        check_checkpoints(session, cfg)
        results = {
            (variant_name(v), seed): session.unit(
                f"{variant_name(v)}-seed{seed}",
                lambda ud, v=v, seed=seed: run_variant(v, data, seed, ud, session, device),
            )
            for v in variants(cfg)
            for seed in cfg.seeds
        }
        once = session.unit("baselines", lambda _: baseline_scores(data, cfg.baselines))
        target = report_place(profile, cfg, session)
        doc, written = report(cfg, profile, argv, data, results, once, target, session)
        footer(session, doc, written, why=target.why)


def report_place(profile: str, cfg: DRCConfig, session: Session) -> ReportTarget:
    """`report_target`; the unmodified cpu-long profile also writes the committed results/cpu/
    (its own long_* files and a marked section of RESULTS.md), like the cpu profile."""
    if profile == LONG:
        profiles = {"cpu": PROFILES[LONG]}  # committed when cfg equals the cpu-long profile
        return report_target("drc", "cpu", cfg, profiles, __file__, session, out=cfg.out)
    return report_target("drc", profile, cfg, PROFILES, __file__, session, out=cfg.out)


def collect(
    cfg: DRCConfig, results: dict[tuple[str, int], dict]
) -> tuple[dict[str, list[float | None]], dict]:
    """Per-seed metric lists (`<metric>/<variant>`) and the learning curves of every unit."""
    per_seed: dict[str, list[float | None]] = {}
    curves: dict[str, dict[str, tuple[list[int], list[list[float]]]]] = {"Q": {}, "iou": {}}
    for (name, _), res in results.items():  # variants outer, seeds inner: the seeds' order
        for key, metric in PER_SEED.items():
            if name == "drc" or not key.startswith("disp"):  # the ablation has no warp
                per_seed.setdefault(f"{metric}/{name}", []).append(res[key])
        for n, v in res["iou_trend"].items():  # held-out IoU after n test-time steps
            per_seed.setdefault(f"iou_after_{n}_steps/{name}", []).append(v)
        steps = [h["step"] for h in res["history"]]
        curves["Q"].setdefault(name, (steps, []))[1].append([-h["Q"] for h in res["history"]])
        curves["iou"].setdefault(name, (steps, []))[1].append(
            [h["iou_chains"] for h in res["history"]]
        )
    return per_seed, curves


def report(
    cfg: DRCConfig,
    profile: str,
    argv: list[str],
    data: dict[str, np.ndarray],
    results: dict[tuple[str, int], dict],
    once: dict[str, float],
    target: ReportTarget,
    session: Session,
) -> tuple[dict, list[Path]]:
    """Judge the evidence; write metrics.json, figures and RESULTS.md into `target`."""
    per_seed, curves = collect(cfg, results)
    ev = build_evidence(profile, cfg.seeds, per_seed, once)
    out, long = target.dir, target.committed and profile == LONG
    prefix = "long_" if long else ""
    render = results[("drc", cfg.seeds[0])]["render"]
    figs = {
        f"Held-out masks and reconstructions (seed {cfg.seeds[0]})": figure(
            out / f"{prefix}masks.png", data, render
        )
    }
    curve_figures(out, curves, figs, prefix)
    wall, info = session.wall_time_s, run_info(cfg)
    metrics_path = ev.write(out / f"{prefix}metrics.json", wall, info=info)
    doc = ev.to_dict(wall, info=info)
    command = " ".join([f"python -m {PROG}", *argv])
    if target.committed:
        command = "make reproduce PROJECT=drc" + (f" PROFILE={LONG}" if long else "")
    # A cpu run keeps the cpu-long section; a cpu-long run writes only its section.
    kept = [marked_section(target.results_md, LONG)] if target.committed and not long else []
    report_md = target.results_md.with_name(".long_section.md") if long else target.results_md
    write_results(
        report_md,
        doc,
        title=f"DRC: {profile}-profile results ({cfg.data.source}, {cfg.data.image_size}px)",
        figures=figs,
        command=command,
        notes=notes(cfg, ev),
        metrics_path=metrics_path,
    )
    if long:
        heading = f"{LONG} profile (`make reproduce PROJECT=drc PROFILE={LONG}`)"
        merge_section(target.results_md, report_md, heading, LONG)
    keep_sections(target.results_md, kept)
    return doc, [target.results_md, metrics_path, *figs.values()]


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
        f"- Warp displacement on held-out images (canvas {cfg.data.image_size} px): mean "
        f"{f('warp_displacement_px/drc')} px, 90th percentile {f('warp_displacement_p90_px/drc')}"
        f" px, mean on object pixels {f('warp_displacement_object_px/drc')} px.",
        f"- Transductive baselines (training images): k-means {f('iou_train/kmeans')}, GrabCut "
        f"{f('iou_train/grabcut')}, all-foreground {f('iou_train/allfg')}.",
        "- Held-out IoU after n test-time posterior steps from noise (the same chains), DRC: "
        + "; ".join(
            f"{n}: {f(f'iou_after_{n}_steps/drc')}" for n in trend_steps(cfg.langevin.infer_test)
        )
        + ".",
        f"- Speed: {f('iters_per_s/drc')} training iterations/s; {f('infer_s_per_image/drc')} s "
        f"per held-out image for {cfg.langevin.infer_test} posterior steps from noise "
        f"(batch {cfg.train.eval_batch}).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    entry(PROG, run)
