"""Why executed paths fail the valid-cubic test although teacher-forced actions look good.

``python -m lanmdp.diagnose [--profile cpu] [--key value ...]`` reads the finished LanMDP unit of
the reproduce run with the same profile and overrides (run ``lanmdp.reproduce`` first; the runs
root is ``$REPROKIT_RUNS``) and prints two tables:

1. the test's tolerance: the valid-cubic rate of the first seed's training curves when every
   true action gets i.i.d. N(0, s²) noise (how large a per-step error the test survives);
2. per (seed, L) member: teacher-forced |â − a*| on every training window and on held-out
   full-context windows;
   *open-loop* validity (held-out curves' actions predicted from their true histories and
   integrated from the true start: the error without compounding); executed validity from
   the fresh starts (closed loop) for three read-outs of the same prior sampler: the chain's
   final point (the execution of ``lanmdp.reproduce`` and of the official validation), the
   lowest-energy point it visited (the official ``optimal=True``), and the highest-f of K
   chains (the official MuJoCo evaluation's rule).
"""

from __future__ import annotations

import numpy as np
import torch

from lanmdp import experiment
from lanmdp.configs import PROFILES, Config
from lanmdp.cubic import T, contexts, fit_cubic, true_actions
from lanmdp.evaluate import action_error, path_metrics
from lanmdp.langevin import LangevinSpec, prior_mode, prior_sample
from lanmdp.model import EnergyPolicy
from lanmdp.policies import Policy, lanmdp_policy
from reprokit.config import parse, to_dict
from reprokit.errors import UserError
from reprokit.lifecycle import config_hash, entry
from reprokit.runlog import runs_root
from reprokit.torch_utils import Checkpointer

PROG = "lanmdp.diagnose"
NOISE_STDS = (0.005, 0.01, 0.02, 0.03, 0.05)
CANDIDATES = 16  # chains of the highest-f read-out (the note: 16–32 on CPU; official 512)


def lowest_energy_policy(model: EnergyPolicy, steps: int, spec: LangevinSpec) -> Policy:
    """Execution read out as the chain's lowest-energy visited point (official optimal=True)."""

    def act(ctx: torch.Tensor) -> torch.Tensor:
        f = model.bind(ctx)
        return prior_mode(f, f.grad, ctx.shape[:2], steps, spec, ctx.device)

    return act


def best_of_chains_policy(model: EnergyPolicy, steps: int, spec: LangevinSpec, k: int) -> Policy:
    """Execution read out as the highest-f final point of k chains per history."""

    def act(ctx: torch.Tensor) -> torch.Tensor:
        M, N, D = ctx.shape
        f = model.bind(ctx[:, :, None].expand(M, N, k, D).reshape(M, N * k, D))
        a = prior_sample(f.grad, (M, N * k), steps, spec, ctx.device)
        with torch.no_grad():
            best = f(a).reshape(M, N, k).argmax(-1, keepdim=True)
        return torch.gather(a.reshape(M, N, k), 2, best)[..., 0]

    return act


def tolerance_table(cfg: Config) -> str:
    """Valid-cubic rate of the first seed's curves with i.i.d. noise on every true action."""
    y = experiment.draw(cfg, cfg.seeds[0]).train
    rng = np.random.default_rng(0)
    rows = ["| action noise std s | mean \\|noise\\| | valid | c3-only |", "|---|---|---|---|"]
    for s in NOISE_STDS:
        a = true_actions(y) + s * rng.standard_normal((len(y), T))
        fit = fit_cubic(np.concatenate([y[:, :1], y[:, :1] + np.cumsum(a, 1)], 1))
        valid = fit.valid(cfg.eval.c3_test, cfg.eval.tau).mean()
        c3_only = fit.c3_only(cfg.eval.c3_test).mean()
        rows.append(f"| {s} | {s * np.sqrt(2 / np.pi):.4f} | {valid:.2f} | {c3_only:.2f} |")
    return "\n".join(rows)


def open_loop_valid(policy: Policy, ens: experiment.Ensemble, cfg: Config) -> np.ndarray:
    """Per member: validity of held-out curves rebuilt from actions predicted on their true
    histories (no compounding: every prediction sees the data's states)."""
    y = [d.heldout for d in ens.data for _ in range(ens.k)]
    ctx = ens.tensor([contexts(h, ens.L_max).reshape(-1, 2 * ens.L_max) for h in y])
    y0 = ens.tensor([h[:, 0] for h in y])
    with torch.no_grad():
        a = policy(ctx).reshape(*y0.shape, T)
    paths = torch.cat([y0[..., None], y0[..., None] + torch.cumsum(a, -1)], -1)
    return path_metrics(paths, cfg.eval.c3_test, cfg.eval.tau)["valid"]


def member_table(cfg: Config, model: EnergyPolicy, ens: experiment.Ensemble) -> str:
    """Teacher-forced errors, open-loop and closed-loop validity per member and read-out."""
    _, spec = experiment.energy_training(cfg)
    steps = cfg.eval.langevin_steps
    final = lanmdp_policy(model, steps, spec)
    readouts = {
        "final point": final,
        "lowest energy": lowest_energy_policy(model, steps, spec),
        f"best of {CANDIDATES}": best_of_chains_policy(model, steps, spec, CANDIDATES),
    }
    w = ens.windows
    cols = {
        "train err": action_error(final, w.ctx, w.a_true),
        "held-out err": action_error(final, ens.heldout_ctx, ens.heldout_a),
        "open-loop valid": open_loop_valid(final, ens, cfg),
    }
    for name, policy in readouts.items():
        cols[f"executed valid ({name})"] = ens.execute(policy)[1]["valid"]
    head = "| seed | L | " + " | ".join(cols) + " |\n|" + "---|" * (len(cols) + 2)
    rows = []
    for i, L in enumerate(ens.lengths):
        cells = " | ".join(f"{v[i]:.3f}" if "err" in k else f"{v[i]:.2f}" for k, v in cols.items())
        rows.append(f"| {ens.seeds[i // ens.k]} | {L} | {cells} |")
    return "\n".join([head, *rows])


def load_model(cfg: Config, profile: str) -> tuple[experiment.Ensemble, EnergyPolicy]:
    """The trained ensemble of the reproduce run with this config (its last checkpoint)."""
    folder = runs_root() / "lanmdp" / profile / config_hash(cfg)[:12] / "units" / "lanmdp"
    ckpt = Checkpointer(folder / "checkpoints", config=to_dict(cfg)).latest()
    if ckpt is None or not (folder / "result.json").exists():
        raise UserError(
            f"no finished LanMDP unit at {folder}; run python -m lanmdp.reproduce with the same "
            "arguments first"
        )
    ens, model = experiment.build_energy(cfg, torch.device("cpu"))
    model.load_state_dict(ckpt["model"])
    return ens, model


def run(argv: list[str], fresh: bool) -> None:
    """Both tables for the run named by ``argv``."""
    profile, cfg = parse(PROFILES, argv, prog=PROG)
    if not isinstance(cfg, Config):
        raise UserError(f"--profile {profile}: the diagnosis is for the cubic task")
    ens, model = load_model(cfg, profile)
    torch.manual_seed(0)
    print(f"Tolerance of the valid-cubic test (τ = {cfg.eval.tau}, seed {cfg.seeds[0]}'s curves):")
    print(tolerance_table(cfg))
    print("\nPer member (seed, L):")
    print(member_table(cfg, model, ens))


if __name__ == "__main__":
    entry(PROG, run)
