"""A tiny two-seed `reproduce` through reprokit.lifecycle (driven by test_lifecycle).

    python _lifecycle_tiny.py [--profile cpu] [--steps N] [--diverge_at K] [--pause_at K]
                              [--signal_at K --signal SIGTERM|SIGINT] [--fresh]

Each seed is one unit: a small torch regression trained for `steps` steps with a checkpoint every
5 steps; it prints "seed S step N" after every step. After step `pause_at` of seed 1 it waits
(up to 60 s) for the test's signal, so the stop lands mid-unit however loaded the machine is;
after step `signal_at` of seed 1 the process sends itself `signal` (in-process tests).
The final report (per-seed final loss) goes where `report_target` says.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from reprokit.config import param, parse, to_dict
from reprokit.lifecycle import Session, entry, footer, header, report_target, stop_requested
from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer, capture_rng_state, check_finite


@dataclass
class Config:
    seeds: tuple[int, ...] = param((0, 1), "seeds", nonempty=True)
    steps: int = param(20, "steps per seed", ge=1)
    lr: float = param(1e-2, "Adam learning rate", gt=0)
    diverge_at: int = param(-1, "make the loss NaN at this step of seed 1 (test hook)")
    pause_at: int = param(-1, "wait for a signal after this step of seed 1 (test hook)")
    signal_at: int = param(-1, "send `signal` to this process after this step of seed 1")
    signal: Literal["SIGTERM", "SIGINT"] = param("SIGTERM", "the signal signal_at sends")
    out: str | None = param(None, "report folder")


PROFILES = {"cpu": Config(), "smoke": Config(steps=6)}
ANCHOR = Path(__file__).resolve().parent / "_lifecycle_project" / "src" / "x.py"


def train(cfg: Config, seed: int, folder: Path, session: Session) -> dict:
    rng = seed_everything(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    ckpt = Checkpointer(folder / "checkpoints", every=5, config=to_dict(cfg))
    start = ckpt.resume(model, opt, np_rng=rng)
    losses = list(ckpt.state["losses"]) if ckpt.state else []
    print(f"seed {seed} start {start}", flush=True)

    def save(done: int) -> None:
        state = {"model": model.state_dict(), "optimizer": opt.state_dict()}
        ckpt.save(done, {**state, "losses": losses, "rng": capture_rng_state(rng)})

    for step in range(start, cfg.steps):
        x = torch.randn(32, 4)
        y = x.sum(1, keepdim=True).sin() + 0.1 * torch.as_tensor(rng.normal(size=(32, 1))).float()
        loss = torch.nn.functional.mse_loss(model(x), y)
        if seed == 1 and step + 1 == cfg.diverge_at:
            loss = loss * float("nan")
        check_finite(loss, step + 1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        done = step + 1
        print(f"seed {seed} step {done}", flush=True)
        if seed == 1 and done == cfg.signal_at:
            os.kill(os.getpid(), getattr(signal, cfg.signal))
        deadline = time.monotonic() + 60
        while seed == 1 and done == cfg.pause_at and not stop_requested():
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if ckpt.due(done):
            save(done)
        session.boundary(f"at seed {seed} step {done}", lambda d=done: save(d))
    return {"final_loss": losses[-1], "losses": losses}


def run(argv: list[str], fresh: bool) -> None:
    profile, cfg = parse(PROFILES, argv, prog="tiny.reproduce")
    with Session("tiny", profile, cfg, fresh=fresh) as session:
        header(session, seeds=cfg.seeds, expected="a few seconds")
        results = {
            s: session.unit(f"seed{s}", lambda folder, s=s: train(cfg, s, folder, session))
            for s in cfg.seeds
        }
        target = report_target("tiny", profile, cfg, PROFILES, ANCHOR, session, out=cfg.out)
        path = target.dir / "metrics.json"
        path.write_text(json.dumps({str(s): r["final_loss"] for s, r in results.items()}))
        footer(session, None, [path], why=target.why)


if __name__ == "__main__":
    entry("tiny.reproduce", run)
