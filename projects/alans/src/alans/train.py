"""Training and evaluation loops for both tiers (Adam on random mini-batches, CE losses)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reprokit.errors import DivergenceError
from reprokit.lifecycle import Session
from reprokit.runlog import Run
from reprokit.torch_utils import Checkpointer, all_finite, capture_rng_state

from .model import ALANS, ALANSBackend, alans_loss

Batch = Callable[[torch.Tensor], dict[str, torch.Tensor]]


@dataclass
class Loop:
    """Where one training loop checkpoints, logs and may be stopped (the defaults: nowhere).

    Args:
        name: what the loop trains (messages, progress bar, log tags), e.g.
            ``tierA-systematicity-seed0/alans``.
        ckpt: its checkpoints (RNG states, optimiser and the loss curve included).
        session: the lifecycle session whose SIGTERM/SIGINT requests stop it at a step boundary.
        run: the unit's run log (loss records and the shared progress bar).
    """

    name: str = "train"
    ckpt: Checkpointer | None = None
    session: Session | None = None
    run: Run | None = None

    def resume(self, model: nn.Module, opt: torch.optim.Optimizer, g: torch.Generator) -> list:
        """Restore the newest checkpoint (model, optimiser, RNGs); the loss curve so far."""
        if self.ckpt is None or not self.ckpt.resume(model, opt):
            return []
        g.set_state(self.ckpt.state["generator"])
        return list(self.ckpt.state["curve"])

    def steps(self, start: int, total: int) -> Iterator[int]:
        """The remaining step indices, with the shared progress bar when there is a run log."""
        if self.run is None:
            return iter(range(start, total))
        return self.run.progress(range(start, total), desc=self.name, leave=False)

    def loss(self, loss_fn: Callable[[torch.Tensor], torch.Tensor], idx: torch.Tensor, step: int):
        """``loss_fn(idx)``; a singular ridge solve or a non-finite loss is a DivergenceError."""
        try:
            loss = loss_fn(idx)
        except torch.linalg.LinAlgError:
            self.diverged("a ridge solve met a singular matrix", step)
        if not all_finite(loss.detach()):
            self.diverged(f"loss is {float(loss.detach())}", step)
        return loss

    def diverged(self, what: str, step: int) -> NoReturn:
        """One line: what went wrong, where, and which checkpoint (if any) is kept."""
        latest = self.ckpt.latest() if self.ckpt is not None else None
        kept = (
            f"the last good checkpoint {self.ckpt.path(latest['step'])} (step {latest['step']}) "
            "is kept"
            if latest is not None
            else "no checkpoint had been written yet"
        )
        raise DivergenceError(
            f"{what} at step {step + 1} of {self.name}: training diverged (a smaller learning "
            f"rate may help); {kept}"
        )

    def done(self, step: int, total: int, loss: float, state: Callable[[], dict]) -> None:
        """After ``step`` completed steps: log, checkpoint when due (and at the end), and stop
        here when SIGTERM/SIGINT was requested (after writing a checkpoint)."""
        if self.run is not None:
            self.run.log(step - 1, {f"{self.name}/loss": loss})
        save = (lambda: self.ckpt.save(step, state())) if self.ckpt is not None else None
        if save is not None and (self.ckpt.due(step) or step == total):
            save()
        if self.session is not None:
            self.session.boundary(f"at {self.name} step {step}", save)


@dataclass
class Unit:
    """One unit of work of ``reproduce`` (a Tier A split x seed, a Tier B seed).

    Each training loop of the unit checkpoints into ``folder/checkpoints/<loop>/``.
    """

    name: str
    folder: Path
    session: Session
    run: Run
    config: dict[str, Any]
    every: int

    def loop(self, what: str) -> Loop:
        """The checkpointed, stoppable :class:`Loop` of one model of this unit."""
        ckpt = Checkpointer(
            self.folder / "checkpoints" / what, every=self.every, config=self.config
        )
        return Loop(f"{self.name}/{what}", ckpt, self.session, self.run)


def fit(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    steps: int,
    batch: int,
    param_groups: list[dict],
    seed: int,
    loop: Loop | None = None,
    on_step: Callable[[int], None] | None = None,
) -> list[float]:
    """Adam on uniformly drawn mini-batches of problem indices; returns the loss curve.

    With ``loop`` it resumes from the loop's newest checkpoint, checkpoints, logs and honours
    stop requests; the curve and the model are the same as those of an uninterrupted fit.
    ``on_step(k)`` is called after the k-th update, while the step's gradients are still
    in place (a diagnostic's hook).
    """
    loop = loop or Loop()
    opt = torch.optim.Adam(param_groups)
    g = torch.Generator().manual_seed(seed)
    curve = loop.resume(model, opt, g)
    model.train()

    def state() -> dict:
        return {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "generator": g.get_state(),
            "rng": capture_rng_state(),
            "curve": list(curve),
        }

    for step in loop.steps(len(curve), steps):
        idx = torch.randint(n, (min(batch, n),), generator=g)
        loss = loop.loss(loss_fn, idx, step)
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve.append(float(loss.detach()))
        if on_step is not None:
            on_step(step + 1)
        loop.done(step + 1, steps, curve[-1], state)
    return curve


@torch.no_grad()
def predict(
    forward: Callable[[torch.Tensor], torch.Tensor], n: int, batch: int = 256
) -> np.ndarray:
    """Concatenated forward outputs (scores) over ``n`` problems, in order."""
    outs = [forward(torch.arange(i, min(n, i + batch))) for i in range(0, n, batch)]
    return torch.cat(outs).cpu().numpy()


def accuracy(scores: np.ndarray, target: np.ndarray) -> float:
    return float((scores.argmax(1) == target).mean())


def _take(d: dict[str, torch.Tensor], idx: torch.Tensor) -> dict[str, torch.Tensor]:
    return {k: v[idx] for k, v in d.items()}


# ---- Tier A ----------------------------------------------------------------------------------


def train_backend(
    backend: ALANSBackend,
    x: dict[str, torch.Tensor],
    data: dict[str, np.ndarray],
    steps: int,
    batch: int,
    lr: float,
    aux: float,
    seed: int,
    loop: Loop | None = None,
) -> list[float]:
    """Tier A: CE(s, y) + aux * operator CE on ground-truth panel distributions ``x``."""
    y = torch.as_tensor(data["target"])
    lab = torch.as_tensor(data["labels"])
    onp = torch.as_tensor(data["numpos_on_position"])

    def loss_fn(idx: torch.Tensor) -> torch.Tensor:
        out = backend(_take(x, idx))
        return alans_loss(out, y[idx], lab[idx], onp[idx], aux)[0]

    return fit(
        backend,
        loss_fn,
        len(y),
        steps,
        batch,
        [{"params": backend.parameters(), "lr": lr}],
        seed,
        loop,
    )


def eval_backend(backend: ALANSBackend, x: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Scores (N, 8) and answer-generation distributions ``pred_<attr>`` (N, V)."""
    backend.eval()
    n = len(next(iter(x.values())))
    keys = ["score"] + [f"pred_{a}" for a in ("type", "size", "color")]
    res: dict[str, list] = {k: [] for k in keys}
    with torch.no_grad():
        for i in range(0, n, 512):
            out = backend(_take(x, torch.arange(i, min(n, i + 512))))
            for k in keys:
                res[k].append(out[k])
    return {k: torch.cat(v).numpy() for k, v in res.items()}


def train_scorer(
    model: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    target: np.ndarray,
    steps: int,
    batch: int,
    lr: float,
    seed: int,
    loop: Loop | None = None,
) -> list[float]:
    """Connectionist baselines: CE over the 8 candidate scores."""
    y = torch.as_tensor(target)

    def loss_fn(idx: torch.Tensor) -> torch.Tensor:
        s = forward(idx)
        return F.cross_entropy(s, y[idx].to(s.device))

    return fit(
        model,
        loss_fn,
        len(y),
        steps,
        batch,
        [{"params": model.parameters(), "lr": lr}],
        seed,
        loop,
    )


# ---- Tier B ----------------------------------------------------------------------------------


def panel_labels(data: dict[str, np.ndarray], S: int) -> dict[str, torch.Tensor]:
    """Per-slot attribute labels (N, 16, S) for the warm-up; type/size/color = -100 if empty."""
    P = torch.as_tensor(data["panels"])
    bits = (P[..., 0:1] >> torch.arange(S)) & 1  # (N, 16, S)
    out = {"exist": bits}
    for i, a in enumerate(("type", "size", "color"), 1):
        out[a] = torch.where(
            bits.bool(), P[..., i : i + 1].expand_as(bits), torch.full_like(bits, -100)
        )
    return out


def warmup_perception(
    model: ALANS,
    crops: torch.Tensor,
    data: dict[str, np.ndarray],
    n_problems: int,
    steps: int,
    batch: int,
    lr: float,
    seed: int,
    loop: Loop | None = None,
) -> list[float]:
    """Attribute-supervised LeNet warm-up (a labelled deviation: the paper never uses attribute
    labels). Panels (all 16 of the first ``n_problems`` training problems) with per-slot CE."""
    S = crops.shape[2]
    x = crops[:n_problems].reshape(-1, 1, *crops.shape[-2:])  # (n * 16 * S, 1, 32, 32)
    lab = {k: v[:n_problems].reshape(-1).to(crops.device) for k, v in panel_labels(data, S).items()}

    def loss_fn(idx: torch.Tensor) -> torch.Tensor:
        logp = model.perception(x[idx].float())
        return sum(F.nll_loss(logp[a], lab[a][idx], ignore_index=-100) for a in logp)

    params = [{"params": model.perception.parameters(), "lr": lr}]
    return fit(model, loss_fn, len(x), steps, batch, params, seed, loop)


def train_alans_pixels(
    model: ALANS,
    crops: torch.Tensor,
    data: dict[str, np.ndarray],
    steps: int,
    batch: int,
    lr: float,
    backend_lr: float,
    aux: float,
    seed: int,
    loop: Loop | None = None,
) -> list[float]:
    """End-to-end ALANS on pixels with the paper's loss (answer CE + operator CE)."""
    y, lab, onp = (
        torch.as_tensor(data[k]).to(crops.device)
        for k in ("target", "labels", "numpos_on_position")
    )

    def loss_fn(idx: torch.Tensor) -> torch.Tensor:
        return alans_loss(model(crops[idx]), y[idx], lab[idx], onp[idx], aux)[0]

    groups = pixel_param_groups(model, lr, backend_lr)
    return fit(model, loss_fn, len(y), steps, batch, groups, seed, loop)


def pixel_param_groups(model: ALANS, lr: float, backend_lr: float) -> list[dict]:
    """Adam groups of end-to-end training: the LeNets at ``lr``, the 16 reasoning numbers at
    ``backend_lr``."""
    return [
        {"params": model.perception.parameters(), "lr": lr},
        {"params": model.backend.parameters(), "lr": backend_lr},
    ]


@torch.no_grad()
def perception_accuracy(
    model: ALANS, crops: torch.Tensor, data: dict[str, np.ndarray]
) -> dict[str, float]:
    """Per-attribute accuracy of the LeNets on occupied slots (a diagnostic)."""
    model.eval()
    S = crops.shape[2]
    x = crops.reshape(-1, 1, *crops.shape[-2:])
    lab = {k: v.reshape(-1).to(crops.device) for k, v in panel_labels(data, S).items()}
    logp = {a: [] for a in ("exist", "type", "size", "color")}
    for i in range(0, len(x), 2048):
        for a, v in model.perception(x[i : i + 2048].float()).items():
            logp[a].append(v)
    out = {}
    for a, v in logp.items():
        pred, t = torch.cat(v).argmax(1), lab[a]
        keep = t != -100
        out[a] = float((pred[keep] == t[keep]).float().mean())
    return out
