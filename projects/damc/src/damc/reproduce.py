"""Entry point: ``python -m damc.reproduce --profile {smoke,cpu,paper} [--key value ...]``.

Runs (1) the pinwheel toy (DAMC vs short-run / long-run Langevin: per-x arm-weight error against
the exact grid posterior, pooled-posterior MMD²) and (2) DAMC vs LEBM on digits (recon MSE,
proxy-FID, anomaly AUPRC) over ``cfg.seeds``; judges the gates and claims of ``damc.claims`` by
the rule of ``reprokit.claims`` and writes ``metrics.json`` (``reprokit.metrics/1``), figures and
RESULTS.md to the output folder (``results/<profile>`` or ``--out``); the unmodified cpu profile
writes the project's RESULTS.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from damc.claims import build_evidence
from damc.configs import PROFILES, Config
from damc.notes import results_notes
from reprokit.claims import MIN_SEEDS, Evidence, EvidenceError
from reprokit.report import console_summary, results_dir, write_metrics, write_results


def _device(cfg: Config) -> torch.device:
    if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def run_digits(cfg: Config, seed: int, method: str, device: torch.device, run) -> dict:
    """Train one (method, seed) latent EBM and compute the digits / image metrics."""
    from damc import evaluate as ev
    from damc.train import load_data, train_latent_ebm

    data = load_data(cfg, seed)
    t0 = time.perf_counter()
    learner = train_latent_ebm(
        cfg,
        method,
        seed,
        data.x_train,
        device,
        ckpt_dir=run.path(f"ckpt-{method}"),
        log=lambda step, **kw: run.log(step, {f"{method}/{k}": v for k, v in kw.items()}),
    )
    out: dict = {"train_time_s": time.perf_counter() - t0, "heldout": data.heldout}
    torch.manual_seed(seed + 12345)
    out["recon_mse"] = ev.recon_mse(learner, data.x_test.to(device), cfg)
    sources = ("diffusion", "ebm") if method == "damc" else ("ebm",)
    real = data.x_train
    for source in sources:
        z = ev.sample_latents(learner, cfg.eval.n_gen, cfg, source, device)
        fake = ev.generate(learner, z).cpu()
        key = "proxy_fid" if source == sources[0] else f"proxy_fid_{source}"
        if cfg.data.dataset == "digits":
            out[key] = ev.proxy_fid(real, fake)
        elif cfg.eval.inception_path is not None:
            out[key.replace("proxy_fid", "fid")] = ev.inception_fid(
                real[: len(fake)], fake, cfg.eval.inception_path
            )
        out[f"samples_{source}"] = fake[:32].numpy()
    if data.x_anomaly_test is not None:
        scores = ev.anomaly_scores(learner, data.x_anomaly_test.to(device), cfg)
        out["auprc"] = ev.auprc(scores, data.is_anomaly)
        out["auprc_chance"] = float(data.is_anomaly.mean())
    with torch.no_grad():
        x = data.x_test[:8].to(device)
        out["recon_pairs"] = (x.cpu().numpy(), ev.generate(learner, ev.infer_z(learner, x, cfg)))
    return out


def digits_baselines(cfg: Config, seed: int) -> dict[str, float]:
    """Per-seed references of the digits gates: the training-mean image's test MSE and the
    proxy-FID feature net's accuracy on the normal test digits."""
    from damc import evaluate as ev
    from damc.train import load_data

    data = load_data(cfg, seed)
    out = {"recon_mse/train_mean": ev.mean_image_mse(data.x_train, data.x_test)}
    if cfg.data.dataset == "digits":
        out["proxy_net_acc"] = ev.proxy_net_accuracy(data.x_test, data.y_test)
    return out


def _digits_metrics(dm: dict, method: str) -> dict[str, float]:
    """``digits/<metric>/<method>`` names of one (method, seed) run's numbers."""
    keys = ("recon_mse", "proxy_fid", "proxy_fid_ebm", "fid", "fid_ebm", "auprc", "train_time_s")
    return {f"{k}/{method}": dm[k] for k in keys if k in dm}


def main(cfg: Config, profile: str) -> dict:
    """Run every enabled experiment, judge the gates and claims (``damc.claims``), write
    metrics.json, figures and RESULTS.md; returns the ``reprokit.metrics/1`` document."""
    from damc.toy import run_toy
    from reprokit.config import to_dict
    from reprokit.runlog import Run
    from reprokit.seeding import seed_everything

    t_start = time.perf_counter()
    device = _device(cfg)
    out_dir = results_dir("damc", profile, anchor=__file__, out=cfg.out)
    runs_root = out_dir / "runs" if cfg.out is not None else None
    per_seed: dict[str, list[float]] = {}
    heldout: list[int | None] = []
    toy_samples, toy_curves, toy_tracks, digit_art = None, {}, {}, {}

    def add(prefix: str, values: dict[str, float]) -> None:
        for k, v in values.items():
            per_seed.setdefault(f"{prefix}/{k}", []).append(float(v))

    for seed in cfg.seeds:
        with Run("damc", profile, config=to_dict(cfg), seed=seed, root=runs_root) as run:
            if cfg.toy.enabled:
                seed_everything(seed)
                tm, samples, losses, curve = run_toy(cfg.toy, seed, lambda s, **kw: run.log(s, kw))
                tm["arm_err_excess/longrun"] = tm["arm_err/longrun"] - tm["arm_err/exact"]
                add("toy", tm)
                toy_tracks[seed], toy_curves[seed] = curve, losses
                toy_samples = toy_samples or samples
            if cfg.methods:
                add("digits", digits_baselines(cfg, seed))
            for method in cfg.methods:
                seed_everything(seed)
                dm = run_digits(cfg, seed, method, device, run)
                add("digits", _digits_metrics(dm, method))
                if "auprc_chance" in dm and method == cfg.methods[0]:
                    add("digits", {"auprc/chance": dm["auprc_chance"]})
                if method == cfg.methods[0]:
                    heldout.append(dm["heldout"])
                if seed == cfg.seeds[0]:
                    digit_art[method] = dm
            run.finish({k: v[-1] for k, v in per_seed.items()})

    ev = build_evidence(profile, cfg.seeds, per_seed)
    figures = _figures(out_dir, toy_samples, toy_curves, toy_tracks, per_seed, digit_art)
    wall = time.perf_counter() - t_start
    info = _info(cfg, device, heldout)
    doc = ev.to_dict(wall, info)
    metrics_path = _write_evidence(ev, out_dir / "metrics.json", wall, info)
    committed = profile == "cpu" and cfg.out is None
    results_md = out_dir.parent.parent / "RESULTS.md" if committed else out_dir / "RESULTS.md"
    write_results(
        results_md,
        doc,
        title="damc: CPU-profile results" if profile == "cpu" else f"damc: {profile} profile",
        figures=figures,
        command="make reproduce PROJECT=damc" + ("" if profile == "cpu" else f" PROFILE={profile}"),
        notes=results_notes(doc, cfg),
        metrics_path=metrics_path,
    )
    print(console_summary(doc))
    return doc


def _write_evidence(ev: Evidence, path: Path, wall: float, info: dict) -> Path:
    """``ev.write`` (validated); a run with fewer than 3 seeds (the paper profile) cannot be
    valid evidence, so its document is written unvalidated with a warning."""
    try:
        return ev.write(path, wall, info)
    except EvidenceError as e:
        if len(ev.seeds) >= MIN_SEEDS:
            raise
        print(f"damc.reproduce: warning: {path.name} is not valid evidence: {e}", file=sys.stderr)
        return write_metrics(path, ev.to_dict(wall, info))


def _info(cfg: Config, device: torch.device, heldout: list[int | None]) -> dict:
    """Free-form extras of metrics.json: the budgets behind the numbers (no paths)."""
    tc, tr = cfg.toy, cfg.train
    return {
        "device": device.type,
        "digits_heldout_class_per_seed": heldout,
        "digits": {"iterations": tr.iterations, "batch_size": tr.batch_size, "nz": cfg.model.nz},
        "toy": {
            "iterations": tc.iterations,
            "shortrun_steps": tc.shortrun_steps,
            "longrun_steps": tc.longrun_steps,
            "diffusion_steps": tc.diffusion_steps,
            "per_x_obs": tc.per_x_obs,
            "per_x_samples": tc.per_x_samples,
            "pooled_n_eval": tc.n_eval,
        },
    }


def _figures(
    out_dir: Path, toy_samples, toy_curves, toy_tracks, per_seed, digit_art
) -> dict[str, Path]:
    from reprokit import plots

    figs: dict[str, Path] = {}
    if toy_samples is not None:
        pts = {k: toy_samples[k] for k in ("prior", "shortrun", "damc", "longrun")}
        figs["Toy: pooled posterior samples (one per x) vs the pinwheel prior, first seed"] = (
            plots.scatter_2d(pts, out_dir / "toy_pooled_posterior.png", lim=(-5, 5))
        )
        steps = np.arange(len(next(iter(toy_curves.values()))))
        curves = {"q_φ ε-loss": (steps, np.array(list(toy_curves.values())))}
        figs["Toy: amortizer training loss"] = plots.learning_curves(
            curves, out_dir / "toy_q_loss.png", xlabel="iteration"
        )
        its = np.array([it for it, _ in next(iter(toy_tracks.values()))])
        track = {
            "DAMC (q_φ init + K steps)": (
                its,
                np.array([[v for _, v in c] for c in toy_tracks.values()]),
            )
        }
        for ref in ("shortrun", "longrun"):
            final = float(np.mean(per_seed[f"toy/pooled_mmd/{ref}"]))
            track[f"{ref} (final eval)"] = (its, np.full(len(its), final))
        figs[
            "Toy: DAMC pooled-posterior MMD² during training (500 x's) vs final short/long-run"
        ] = plots.learning_curves(
            track, out_dir / "toy_mmd_track.png", xlabel="iteration", ylabel="MMD²"
        )
    rows = {}
    for method, dm in digit_art.items():
        x, rec = dm["recon_pairs"]
        rows[f"{method}: test x"] = x
        rows[f"{method}: recon"] = rec.cpu().numpy()
        for key in ("samples_diffusion", "samples_ebm"):
            if key in dm:
                rows[f"{method}: {key[8:]}"] = dm[key][:12]
    if rows and next(iter(rows.values())).shape[1] in (1, 3):
        figs["Digits: reconstructions and samples (first seed)"] = plots.image_rows(
            rows, out_dir / "digits_samples.png"
        )
    return figs


def cli(argv: list[str] | None = None) -> int:
    from reprokit.config import parse
    from reprokit.datasets import DatasetError
    from reprokit.torch_utils import CheckpointError, DivergenceError

    profile, cfg = parse(PROFILES, argv, prog="damc.reproduce")
    try:
        doc = main(cfg, profile)
    except (DatasetError, CheckpointError, DivergenceError, FileNotFoundError) as e:
        print(f"damc.reproduce: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    print(f"wall_time_s: {doc['wall_time_s']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
