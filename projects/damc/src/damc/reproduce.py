"""Entry point: ``python -m damc.reproduce --profile {smoke,cpu,paper} [--key value] [--fresh]``.

Runs (1) the pinwheel toy (DAMC vs short-run / long-run Langevin: per-x arm-weight error against
the exact grid posterior, pooled-posterior MMD²) and (2) DAMC vs LEBM on digits (recon MSE,
proxy-FID, anomaly AUPRC) over ``cfg.seeds``; judges the gates and claims of ``damc.claims`` by
the rule of ``reprokit.claims`` and writes ``metrics.json`` (``reprokit.metrics/1``), figures and
RESULTS.md where ``reprokit.lifecycle.report_target`` says (the unmodified cpu profile: the
committed results; a run with overrides: its run folder).

The run goes through ``reprokit.lifecycle``: every (toy | baselines | method) × seed is a unit
of the session ``<runs root>/damc/<profile>/<config hash>/``; a rerun of the same command reuses
finished units and resumes an interrupted one from its checkpoints; ``--fresh`` starts over.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from damc.claims import build_evidence
from damc.configs import PROFILES, Config
from damc.loop import Hooks
from damc.notes import results_notes
from reprokit.config import parse, to_dict
from reprokit.lifecycle import Session, entry, footer, header, report_target
from reprokit.report import write_results
from reprokit.runlog import Run
from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer

PROG = "damc.reproduce"
EXPECTED = {"smoke": "~15 s", "cpu": "~9 min on 2 CPU cores", "paper": "days on 8 GPUs"}


def _hooks(run: Run, session: Session, prefix: str = "") -> Hooks:
    """The unit's log, progress bar and the session's step boundary."""

    def log(step: int, **kw: float) -> None:
        run.log(step, {f"{prefix}{k}": v for k, v in kw.items()})

    return Hooks(log=log, progress=run.progress, boundary=session.boundary)


def toy_unit(cfg: Config, seed: int, folder: Path, session: Session) -> dict:
    """One seed of the toy (resumable amortizer training, then every sampler's metrics)."""
    from damc.toy import run_toy

    seed_everything(seed)
    ckpt = Checkpointer(folder / "checkpoints", every=cfg.toy.ckpt_every, config=to_dict(cfg))
    with Run("damc", session.profile, to_dict(cfg), seed=seed, folder=folder) as run:
        tm, samples, losses, curve = run_toy(cfg.toy, seed, _hooks(run, session), ckpt)
        tm["arm_err_excess/longrun"] = tm["arm_err/longrun"] - tm["arm_err/exact"]
        run.finish(tm)
    return {"metrics": tm, "samples": samples, "losses": losses, "curve": curve}


def digits_baselines(cfg: Config, seed: int) -> dict[str, float]:
    """Per-seed references of the digits gates: the training-mean image's test MSE and the
    proxy-FID feature net's accuracy on the normal test digits."""
    from damc import evaluate as ev
    from damc.train import load_data

    seed_everything(seed)
    data = load_data(cfg, seed)
    out = {"recon_mse/train_mean": ev.mean_image_mse(data.x_train, data.x_test)}
    if cfg.data.dataset == "digits":
        out["proxy_net_acc"] = ev.proxy_net_accuracy(data.x_test, data.y_test)
    return out


def digits_unit(
    cfg: Config, seed: int, method: str, device: torch.device, folder: Path, session: Session
) -> dict:
    """Train one (method, seed) latent EBM (resumable) and compute the digits / image metrics."""
    from damc.train import load_data, train_latent_ebm

    seed_everything(seed)
    data = load_data(cfg, seed)
    with Run("damc", session.profile, to_dict(cfg), seed=seed, folder=folder) as run:
        hooks = _hooks(run, session, f"{method}/")
        learner = train_latent_ebm(
            cfg, method, seed, data.x_train, device, folder / "checkpoints", hooks
        )
        out = _digits_eval(cfg, seed, method, learner, data, device)
        run.finish({k: v for k, v in out.items() if isinstance(v, float)})
    return out


def _digits_eval(cfg: Config, seed: int, method: str, learner, data, device: torch.device) -> dict:
    """recon MSE, proxy-FID (or Inception FID), AUPRC and the figure material of one model."""
    from damc import evaluate as ev

    out: dict = {"train_time_s": learner.train_time_s, "heldout": data.heldout}
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
        rec = ev.generate(learner, ev.infer_z(learner, x, cfg))
        out["recon_pairs"] = (x.cpu().numpy(), rec.cpu().numpy())
    return out


def _digits_metrics(dm: dict, method: str) -> dict[str, float]:
    """``digits/<metric>/<method>`` names of one (method, seed) run's numbers."""
    keys = ("recon_mse", "proxy_fid", "proxy_fid_ebm", "fid", "fid_ebm", "auprc", "train_time_s")
    return {f"{k}/{method}": dm[k] for k in keys if k in dm}


def run_units(cfg: Config, session: Session, device: torch.device) -> dict:
    """Every unit in order (per seed: toy, digits baselines, each method); their results."""
    per_seed: dict[str, list[float]] = {}
    out: dict = {"per_seed": per_seed, "heldout": [], "toy": {}, "digits_art": {}}

    def add(prefix: str, values: dict[str, float]) -> None:
        for k, v in values.items():
            per_seed.setdefault(f"{prefix}/{k}", []).append(float(v))

    for seed in cfg.seeds:
        if cfg.toy.enabled:
            toy = session.unit(f"toy-seed{seed}", lambda d, s=seed: toy_unit(cfg, s, d, session))
            add("toy", toy["metrics"])
            out["toy"][seed] = toy
        add(
            "digits",
            session.unit(f"baselines-seed{seed}", lambda _, s=seed: digits_baselines(cfg, s)),
        )
        for method in cfg.methods:
            dm = session.unit(
                f"{method}-seed{seed}",
                lambda d, s=seed, m=method: digits_unit(cfg, s, m, device, d, session),
            )
            add("digits", _digits_metrics(dm, method))
            if method == cfg.methods[0]:
                out["heldout"].append(dm["heldout"])
                if "auprc_chance" in dm:
                    add("digits", {"auprc/chance": dm["auprc_chance"]})
            if seed == cfg.seeds[0]:
                out["digits_art"][method] = dm
    return out


def _command(argv: list[str], committed: bool) -> str:
    """The command of RESULTS.md: the make target for the committed results, else the CLI."""
    if committed:
        return "make reproduce PROJECT=damc"
    return " ".join(["python -m damc.reproduce", *argv])


def write_report(
    cfg: Config, profile: str, argv: list[str], session: Session, res: dict, device: torch.device
) -> None:
    """Judge the evidence; metrics.json, figures and RESULTS.md where report_target says."""
    target = report_target("damc", profile, cfg, PROFILES, __file__, session, out=cfg.out)
    ev = build_evidence(profile, cfg.seeds, res["per_seed"])
    toy = res["toy"]
    first = next(iter(toy.values()), None)
    figures = _figures(
        target.dir,
        first["samples"] if first else None,
        {s: t["losses"] for s, t in toy.items()},
        {s: t["curve"] for s, t in toy.items()},
        res["per_seed"],
        res["digits_art"],
    )
    wall, info = session.wall_time_s, _info(cfg, device, res["heldout"])
    metrics_path = ev.write(target.dir / "metrics.json", wall, info)
    doc = ev.to_dict(wall, info)
    write_results(
        target.results_md,
        doc,
        title="damc: CPU-profile results" if profile == "cpu" else f"damc: {profile} profile",
        figures=figures,
        command=_command(argv, target.committed),
        notes=results_notes(doc, cfg),
        metrics_path=metrics_path,
    )
    footer(session, doc, [target.results_md, metrics_path, *figures.values()], why=target.why)


def run(argv: list[str], fresh: bool) -> None:
    """``reproduce`` under the lifecycle: preflight, one unit per (experiment, seed), report."""
    from damc.train import preflight

    profile, cfg = parse(PROFILES, argv, prog=PROG)
    device, _ = preflight(cfg)
    with Session("damc", profile, cfg, fresh=fresh) as session:
        header(
            session,
            expected=EXPECTED.get(profile),
            seeds=cfg.seeds,
            methods=cfg.methods,
            toy="on" if cfg.toy.enabled else "off",
            device=device.type,
        )
        res = run_units(cfg, session, device)
        write_report(cfg, profile, argv, session, res, device)


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
    """The toy scatter, loss and MMD² curves and the digits sample rows (first seed)."""
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
        rows[f"{method}: recon"] = rec
        for key in ("samples_diffusion", "samples_ebm"):
            if key in dm:
                rows[f"{method}: {key[8:]}"] = dm[key][:12]
    if rows and next(iter(rows.values())).shape[1] in (1, 3):
        figs["Digits: reconstructions and samples (first seed)"] = plots.image_rows(
            rows, out_dir / "digits_samples.png"
        )
    return figs


if __name__ == "__main__":
    entry(PROG, run)
