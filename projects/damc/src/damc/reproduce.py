"""Entry point: ``python -m damc.reproduce --profile {smoke,cpu,paper} [--key value ...]``.

Runs (1) the pinwheel toy (DAMC vs short-run / long-run Langevin, pooled-posterior MMD²) and
(2) DAMC vs LEBM on digits (recon MSE, proxy-FID, anomaly AUPRC) over ``cfg.seeds``, then
writes ``metrics.json`` and figures to the output folder (``results/<profile>`` or ``--out``);
the cpu profile also writes the project's RESULTS.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from damc.configs import PROFILES, Config

TOY_SAMPLERS = ("damc", "damc_q", "shortrun", "shortrun_matched", "longrun")


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


def _summ(values: list[float]) -> dict:
    from reprokit.report import summarize

    return summarize(values)


def main(cfg: Config, profile: str) -> dict:
    """Run every enabled experiment; returns the metrics dict that is written to metrics.json."""
    from damc.toy import run_toy
    from reprokit.config import to_dict
    from reprokit.report import results_dir, write_metrics
    from reprokit.runlog import Run
    from reprokit.seeding import seed_everything

    t_start = time.perf_counter()
    device = _device(cfg)
    out_dir = results_dir("damc", profile, anchor=__file__, out=cfg.out)
    runs_root = out_dir / "runs" if cfg.out is not None else None
    metrics: dict = {"profile": profile, "seeds": list(cfg.seeds), "device": str(device)}
    per_seed: dict[str, list[float]] = {}
    toy_samples, toy_curves, toy_tracks, digit_art = None, {}, {}, {}

    def add(key: str, value: float) -> None:
        per_seed.setdefault(key, []).append(float(value))

    for seed in cfg.seeds:
        with Run("damc", profile, config=to_dict(cfg), seed=seed, root=runs_root) as run:
            if cfg.toy.enabled:
                seed_everything(seed)
                tm, samples, losses, curve = run_toy(cfg.toy, seed, lambda s, **kw: run.log(s, kw))
                toy_tracks[seed] = curve
                for k, v in tm.items():
                    add(f"toy_{k}", v)
                toy_curves[seed] = losses
                toy_samples = toy_samples or samples
            for method in cfg.methods:
                seed_everything(seed)
                dm = run_digits(cfg, seed, method, device, run)
                for k in ("recon_mse", "proxy_fid", "proxy_fid_ebm", "fid", "fid_ebm", "auprc"):
                    if k in dm:
                        add(f"digits_{method}_{k}", dm[k])
                for k in ("train_time_s", "auprc_chance"):
                    if k in dm:
                        add(f"digits_{method}_{k}", dm[k])
                if dm["heldout"] is not None:
                    per_seed.setdefault("digits_heldout_class", []).append(dm["heldout"])
                if seed == cfg.seeds[0]:
                    digit_art[method] = dm
            run.finish({k: v[-1] for k, v in per_seed.items()})

    for key, vals in per_seed.items():
        if key == "digits_heldout_class":
            metrics[key] = sorted(set(vals), key=vals.index)
            continue
        s = _summ(vals)
        metrics[key], metrics[f"{key}_std"], metrics[f"{key}_values"] = s["mean"], s["std"], vals
    metrics["wall_time_s"] = time.perf_counter() - t_start
    figures = _figures(out_dir, toy_samples, toy_curves, toy_tracks, metrics, digit_art)
    write_metrics(out_dir / "metrics.json", metrics)
    if profile == "cpu" and cfg.out is None:
        from damc.report import update_readme, write_report

        root = out_dir.parent.parent
        write_report(root / "RESULTS.md", metrics, figures, out_dir, cfg)
        update_readme(root / "README.md", root / "RESULTS.md")
    elif profile in ("smoke", "cpu"):
        from damc.report import write_report

        write_report(out_dir / "RESULTS.md", metrics, figures, out_dir, cfg)
    return metrics


def _figures(
    out_dir: Path, toy_samples, toy_curves, toy_tracks, metrics, digit_art
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
            track[f"{ref} (final eval)"] = (its, np.full(len(its), metrics[f"toy_{ref}_mmd"]))
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
        metrics = main(cfg, profile)
    except (DatasetError, CheckpointError, DivergenceError, FileNotFoundError) as e:
        print(f"damc.reproduce: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    keys = [
        k
        for k in metrics
        if k.startswith(("toy_", "digits_")) and k.endswith(("mmd", "fid", "mse", "auprc"))
    ]
    for k in keys:
        print(f"{k}: {metrics[k]:.5g} ± {metrics[k + '_std']:.2g}")
    print(f"wall_time_s: {metrics['wall_time_s']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
