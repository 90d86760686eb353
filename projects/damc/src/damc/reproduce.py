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

from damc.claims import build_anomaly_evidence, build_evidence, pair_id
from damc.configs import PROFILES, Config
from damc.loop import Hooks
from damc.notes import anomaly_notes, results_notes
from reprokit.config import override, parse, to_dict
from reprokit.lifecycle import ReportTarget, Session, entry, footer, header, report_target
from reprokit.report import keep_sections, marked_section, merge_section, write_results
from reprokit.runlog import Run
from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer

PROG = "damc.reproduce"
EXPECTED = {
    "smoke": "~15 s",
    "cpu": "~15 min on 2 CPU cores",
    "pilot": "~2 min on 2 CPU cores",
    "paper": "days on 8 GPUs",
    "cpu-anomaly": "~35-45 min on 2 loaded CPU cores",
    "pilot-anomaly": "~10 min on 2 loaded CPU cores",
    "smoke-anomaly": "~10 s",
}
ANOMALY = "cpu-anomaly"  # writes results/cpu/anomaly_* and a marked section (tag ANOMALY)


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
        tm, figure, losses, curve = run_toy(cfg.toy, seed, _hooks(run, session), ckpt)
        run.finish(tm)
    return {"metrics": tm, "figure": figure, "losses": losses, "curve": curve}


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
    """Train one (method, seed) latent EBM (resumable) and compute the digits / image metrics.
    ``lebm_long`` is LEBM for ``train.lebm_long_iterations`` (about DAMC's wall time)."""
    from damc.train import load_data, train_latent_ebm

    seed_everything(seed)
    data = load_data(cfg, seed)
    sampler, run_cfg = method, cfg
    if method == "lebm_long":
        sampler = "lebm"
        run_cfg = override(cfg, {"train.iterations": cfg.train.lebm_long_iterations})
    with Run("damc", session.profile, to_dict(run_cfg), seed=seed, folder=folder) as run:
        hooks = _hooks(run, session, f"{method}/")
        learner = train_latent_ebm(
            run_cfg, sampler, seed, data.x_train, device, folder / "checkpoints", hooks
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
    if method == "damc":  # the amortizers' own quality: G(z₀) with no Langevin refinement
        for name, use_ema in (("recon_mse_q", False), ("recon_mse_qema", True)):
            out[name] = ev.init_recon_mse(learner, data.x_test.to(device), use_ema)
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
    keys = (
        "recon_mse",
        "recon_mse_q",
        "recon_mse_qema",
        "proxy_fid",
        "proxy_fid_ebm",
        "fid",
        "fid_ebm",
        "auprc",
        "train_time_s",
    )
    return {f"{k}/{method}": dm[k] for k in keys if k in dm}


def digits_methods(cfg: Config) -> tuple[str, ...]:
    """The trained methods, plus ``lebm_long`` when LEBM runs and lebm_long_iterations > 0."""
    extra = ("lebm_long",) if "lebm" in cfg.methods and cfg.train.lebm_long_iterations else ()
    return (*cfg.methods, *extra)


def run_units(cfg: Config, session: Session, device: torch.device) -> dict:
    """Every unit in order (toy seeds; then per digits seed: baselines, each method)."""
    per_seed: dict[str, dict[int, float]] = {}
    out: dict = {"per_seed": per_seed, "heldout": [], "toy": {}, "digits_art": {}}

    def add(prefix: str, seed: int, values: dict[str, float]) -> None:
        for k, v in values.items():
            per_seed.setdefault(f"{prefix}/{k}", {})[seed] = float(v)

    for seed in cfg.toy.seeds if cfg.toy.enabled else ():
        toy = session.unit(f"toy-seed{seed}", lambda d, s=seed: toy_unit(cfg, s, d, session))
        add("toy", seed, toy["metrics"])
        out["toy"][seed] = toy
    for seed in cfg.seeds if cfg.digits else ():
        base = session.unit(f"baselines-seed{seed}", lambda _, s=seed: digits_baselines(cfg, s))
        add("digits", seed, base)
        for method in digits_methods(cfg):
            dm = session.unit(
                f"{method}-seed{seed}",
                lambda d, s=seed, m=method: digits_unit(cfg, s, m, device, d, session),
            )
            add("digits", seed, _digits_metrics(dm, method))
            if method == cfg.methods[0]:
                out["heldout"].append(dm["heldout"])
                if "auprc_chance" in dm:
                    add("digits", seed, {"auprc/chance": dm["auprc_chance"]})
            if seed == cfg.seeds[0]:
                out["digits_art"][method] = dm
    return out


def anomaly_data(cfg: Config, held: int):
    """The official class split of the pooled digits with class ``held`` held out."""
    from damc.anomaly import class_split
    from reprokit.datasets import load_digits

    x, y = load_digits(cfg.data.size, "all")
    ac = cfg.anomaly
    return class_split(x, y, held, ac.train_fraction, ac.split_seed)


def anomaly_baselines(cfg: Config, seed: int, held: int) -> dict[str, float]:
    """The pair's references: chance AUPRC (the anomaly fraction), the wrong-score control and
    the training-mean image's MSE on the normal test digits."""
    from damc import evaluate as ev
    from damc.anomaly import random_score_auprc

    split = anomaly_data(cfg, held)
    chance = float(split.is_anomaly.mean())
    random = random_score_auprc(split.is_anomaly, pair_id(seed, held))
    return {
        "auprc/chance": chance,
        "auprc/random": random,
        "auprc_excess/random": random - chance,
        "recon_mse/train_mean": ev.mean_image_mse(split.x_train, split.x_test_normal),
        "n_anomalies": float(split.is_anomaly.sum()),
        "n_test": float(len(split.is_anomaly)),
    }


def anomaly_unit(
    cfg: Config,
    seed: int,
    held: int,
    method: str,
    device: torch.device,
    folder: Path,
    session: Session,
) -> dict[str, float]:
    """Train one (method, seed, held-out class) model on the normal digits (resumable) and
    score the test set: AUPRC with the held-out class positive, MSE on the normal test digits."""
    from damc import evaluate as ev
    from damc.anomaly import pr_auc
    from damc.train import train_latent_ebm

    pid = pair_id(seed, held)
    seed_everything(pid)
    split = anomaly_data(cfg, held)
    with Run("damc", session.profile, to_dict(cfg), seed=pid, folder=folder) as run:
        hooks = _hooks(run, session, f"{method}/")
        learner = train_latent_ebm(
            cfg, method, pid, split.x_train, device, folder / "checkpoints", hooks
        )
        torch.manual_seed(pid + 12345)
        rec, prior = ev.anomaly_terms(learner, split.x_test.to(device), cfg)
        log_joint = rec / (2 * cfg.langevin.sigma**2) + prior  # −log p(x, z) + const
        out = {
            "auprc": pr_auc(rec + prior, split.is_anomaly),  # the official score
            "auprc_logjoint": pr_auc(log_joint, split.is_anomaly),
            "recon_mse": ev.recon_mse(learner, split.x_test_normal.to(device), cfg),
            "train_time_s": learner.train_time_s,
        }
        run.finish(out)
    return out


def run_anomaly_units(cfg: Config, session: Session, device: torch.device) -> dict:
    """Every (seed, held-out class) pair: its references, then each method's model."""
    per_pair: dict[str, dict[int, float]] = {}
    pairs: list[int] = []
    for seed in cfg.seeds:
        for held in cfg.anomaly.classes:
            pid = pair_id(seed, held)
            pairs.append(pid)
            values = anomaly_baselines(cfg, seed, held)
            for method in cfg.methods:

                def train(folder: Path, s: int = seed, c: int = held, m: str = method) -> dict:
                    return anomaly_unit(cfg, s, c, m, device, folder, session)

                res = session.unit(f"anomaly-{method}-seed{seed}-class{held}", train)
                values |= {f"{k}/{method}": v for k, v in res.items()}
                values[f"auprc_class{held}/{method}"] = res["auprc"]
            for name, v in values.items():
                per_pair.setdefault(f"anomaly/{name}", {})[pid] = float(v)
    return {"per_pair": per_pair, "pairs": pairs}


def write_anomaly_report(
    cfg: Config, profile: str, argv: list[str], session: Session, res: dict, device: torch.device
) -> None:
    """Judge the anomaly evidence; the committed run writes results/cpu/anomaly_metrics.json
    and replaces the marked ANOMALY section of RESULTS.md (the rest of the file is kept)."""
    target = _target(cfg, profile, session)
    ev = build_anomaly_evidence(profile, res["per_pair"], res["pairs"], cfg.anomaly.classes)
    prefix = "anomaly_" if target.committed else ""
    wall, info = session.wall_time_s, _anomaly_info(cfg, device, res["pairs"])
    metrics_path = ev.write(target.dir / f"{prefix}metrics.json", wall, info)
    doc = ev.to_dict(wall, info)
    report_md = target.results_md
    if target.committed:
        report_md = target.results_md.with_name(".anomaly_section.md")
    write_results(
        report_md,
        doc,
        title=f"damc: {profile} profile",
        figures={},
        command=_command(argv, target.committed, profile),
        notes=anomaly_notes(doc, cfg),
        metrics_path=metrics_path,
    )
    if target.committed:
        heading = f"{ANOMALY} profile (`make reproduce PROJECT=damc PROFILE={ANOMALY}`)"
        merge_section(target.results_md, report_md, heading, ANOMALY)
    footer(session, doc, [target.results_md, metrics_path], why=target.why)


def _target(cfg: Config, profile: str, session: Session) -> ReportTarget:
    """``report_target``; the unmodified cpu-anomaly profile also writes the committed
    results/cpu/ (its anomaly_* file and a marked section of RESULTS.md), like the cpu profile."""
    if profile == ANOMALY:
        profiles = {"cpu": PROFILES[ANOMALY]}  # committed when cfg equals the cpu-anomaly profile
        return report_target("damc", "cpu", cfg, profiles, __file__, session, out=cfg.out)
    return report_target("damc", profile, cfg, PROFILES, __file__, session, out=cfg.out)


def _anomaly_info(cfg: Config, device: torch.device, pairs: list[int]) -> dict:
    """Free-form extras of anomaly_metrics.json: the pairs and the recipe behind the numbers."""
    return {
        "device": device.type,
        "pair_id": "10 * seed + held-out class",
        "pairs": [[p // 10, p % 10] for p in pairs],
        "classes": list(cfg.anomaly.classes),
        "split": {"train_fraction": cfg.anomaly.train_fraction, "seed": cfg.anomaly.split_seed},
        "iterations": cfg.train.iterations,
        "nz": cfg.model.nz,
        "sigma": cfg.langevin.sigma,
        "lr": {"G": cfg.optim.g_lr, "E": cfg.optim.e_lr, "Q": cfg.damc.q_lr},
        "prior_init": cfg.damc.prior_init,
        "q_loss": cfg.damc.q_loss,
        "score": "sum_pixels (x - G(z))^2 + E(z) + 0.5 |z|^2",
        "score_refine_steps": cfg.eval.refine_steps,
        "auprc": "trapezoid over (recall, precision)",
    }


def _command(argv: list[str], committed: bool, profile: str = "cpu") -> str:
    """The command of RESULTS.md: the make target for the committed results, else the CLI."""
    if committed:
        return "make reproduce PROJECT=damc" + (f" PROFILE={profile}" if profile != "cpu" else "")
    return " ".join(["python -m damc.reproduce", *argv])


def write_report(
    cfg: Config, profile: str, argv: list[str], session: Session, res: dict, device: torch.device
) -> None:
    """Judge the evidence; metrics.json, figures and RESULTS.md where report_target says."""
    target = _target(cfg, profile, session)
    seeds = [*(cfg.toy.seeds if cfg.toy.enabled else ()), *(cfg.seeds if cfg.digits else ())]
    ev = build_evidence(profile, res["per_seed"], list(dict.fromkeys(seeds)))
    figures = _figures(target.dir, res["toy"], res["digits_art"])
    wall, info = session.wall_time_s, _info(cfg, device, res["heldout"])
    metrics_path = ev.write(target.dir / "metrics.json", wall, info)
    doc = ev.to_dict(wall, info)
    kept = [marked_section(target.results_md, ANOMALY)] if target.committed else []
    write_results(
        target.results_md,
        doc,
        title="damc: CPU-profile results" if profile == "cpu" else f"damc: {profile} profile",
        figures=figures,
        command=_command(argv, target.committed),
        notes=results_notes(doc, cfg),
        metrics_path=metrics_path,
    )
    keep_sections(target.results_md, kept)
    footer(session, doc, [target.results_md, metrics_path, *figures.values()], why=target.why)


def run(argv: list[str], fresh: bool) -> None:
    """``reproduce`` under the lifecycle: preflight, one unit per (experiment, seed), report."""
    from damc.train import preflight

    profile, cfg = parse(PROFILES, argv, prog=PROG)
    device, _ = preflight(cfg)
    with Session("damc", profile, cfg, fresh=fresh) as session:
        if cfg.anomaly.enabled:
            header(
                session,
                expected=EXPECTED.get(profile),
                seeds=cfg.seeds,
                heldout_classes=cfg.anomaly.classes,
                methods=cfg.methods,
                device=device.type,
            )
            res = run_anomaly_units(cfg, session, device)
            write_anomaly_report(cfg, profile, argv, session, res, device)
            return
        header(
            session,
            expected=EXPECTED.get(profile),
            toy_seeds=cfg.toy.seeds if cfg.toy.enabled else "off",
            digits_seeds=cfg.seeds if cfg.digits else "off",
            methods=digits_methods(cfg) if cfg.digits else "off",
            device=device.type,
        )
        res = run_units(cfg, session, device)
        write_report(cfg, profile, argv, session, res, device)


def _info(cfg: Config, device: torch.device, heldout: list[int | None]) -> dict:
    """Free-form extras of metrics.json: the budgets behind the numbers (no paths)."""
    tc, tr, B = cfg.toy, cfg.train, cfg.train.batch_size
    neg = {"damc": 2 * B if cfg.damc.prior_init == "code" else B, "lebm": B, "lebm_long": B}
    return {
        "device": device.type,
        "digits_heldout_class_per_seed": heldout,
        "digits": {
            "iterations": {"damc": tr.iterations, "lebm": tr.iterations}
            | ({"lebm_long": tr.lebm_long_iterations} if tr.lebm_long_iterations else {}),
            "negative_chains_per_iteration": {m: neg[m] for m in digits_methods(cfg)},
            "batch_size": B,
            "nz": cfg.model.nz,
            "ema": {"rho": cfg.damc.ema_rho, "every": cfg.damc.ema_every},
        },
        "toy": {
            "target_prior": tc.target_prior,
            "generator": tc.generator,
            "g_lipschitz": tc.g_lipschitz,
            "sigma": tc.sigma,
            "step_size": tc.step_size,
            "iterations": tc.iterations,
            "shortrun_steps": tc.shortrun_steps,
            "diffusion_steps": tc.diffusion_steps,
            "equal_budget_steps": tc.shortrun_steps + tc.diffusion_steps,
            "longrun_steps": tc.longrun_steps,
            "per_x_obs": tc.per_x_obs,
            "per_x_samples": tc.per_x_samples,
            "joint_n_eval": tc.n_eval,
        },
    }


def _figures(out_dir: Path, toy: dict, digit_art: dict) -> dict[str, Path]:
    """Per-x posteriors and curves of the first toy seed; digits sample rows (first seed)."""
    from damc.figures import per_x_posteriors
    from reprokit import plots

    figs: dict[str, Path] = {}
    if toy:
        first = toy[next(iter(toy))]
        figs[
            "Toy: exact posterior p(z|x) (grid) vs long-run, DAMC and equal-budget short-run "
            "samples for a few fixed x, first toy seed"
        ] = per_x_posteriors(first["figure"], out_dir / "toy_per_x_posteriors.png")
        losses = np.array([t["losses"] for t in toy.values()])
        figs["Toy: amortizer training loss (mean ± std over toy seeds)"] = plots.learning_curves(
            {"q_φ ε-loss": (np.arange(losses.shape[1]), losses)},
            out_dir / "toy_q_loss.png",
            xlabel="iteration",
        )
        its = np.array([it for it, _ in first["curve"]])
        track = np.array([[v for _, v in t["curve"]] for t in toy.values()])
        figs["Toy: DAMC per-x MMD² during training (tracking observations)"] = (
            plots.learning_curves(
                {"DAMC (q_φ init + K steps)": (its, track)},
                out_dir / "toy_mmd_track.png",
                xlabel="iteration",
                ylabel="per-x MMD²",
            )
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
