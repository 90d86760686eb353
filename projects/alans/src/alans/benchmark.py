"""Pixel-tier training speed (issue 17 item 7): ``python -m alans.benchmark``.

Times end-to-end ALANS training steps (answer CE + auxiliary operator CE, Adam) at the matched
config of the issue: Center, 32-px crops, batch 32, aux 1.0. Two paths are timed in
alternation, so both see the same machine load:

* ``all heads``: the pre-issue-17 forward, all four LeNets on every crop, then the Number /
  exist distributions that the Center backend never reads are dropped
  (:func:`all_heads_forward`);
* ``skip unused``: ``ALANS.forward``, which does not run the exist LeNet on Center.

Both give bit-identical scores and gradients of the used LeNets
(``test_center_skips_the_exist_lenet_with_bit_identical_outputs_and_gradients``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from .data import cached_crops, load_split
from .model import ALANS, alans_loss
from .perception import scene_engine

Forward = Callable[[ALANS, torch.Tensor], dict[str, torch.Tensor]]


def all_heads_forward(model: ALANS, crops: torch.Tensor) -> dict[str, torch.Tensor]:
    """The pre-issue-17 Center forward: every LeNet, scene engine, Number/exist then dropped."""
    B, P, S = crops.shape[:3]
    logp = model.perception(crops.reshape(B * P * S, 1, *crops.shape[-2:]).float())
    d = scene_engine({a: v.reshape(B, P, S, -1) for a, v in logp.items()})
    return model.backend({k: v for k, v in d.items() if k not in ("number", "exist")})


def steps_per_second(forward: Forward, crops: torch.Tensor, data: dict, steps: int) -> float:
    """Adam steps per second of ``forward`` (3 untimed warm-up steps first), batch 32, aux 1."""
    torch.manual_seed(0)
    model = ALANS()
    opt = torch.optim.Adam(model.parameters(), lr=0.95e-4)
    y, lab = torch.as_tensor(data["target"]), torch.as_tensor(data["labels"])
    g = torch.Generator().manual_seed(0)
    start = 0.0
    for step in range(3 + steps):
        if step == 3:
            start = time.perf_counter()
        idx = torch.randint(len(y), (32,), generator=g)
        loss = alans_loss(forward(model, crops[idx]), y[idx], lab[idx], None, 1.0)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="alans.benchmark", description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40, help="timed steps per measurement")
    ap.add_argument("--repeats", type=int, default=5, help="alternating measurements per path")
    args = ap.parse_args(argv)
    data = load_split("systematicity", "train", 512, seed=0)
    crops = torch.as_tensor(cached_crops("systematicity", "train", 512, seed=0))
    paths: dict[str, Forward] = {"all heads": all_heads_forward, "skip unused": ALANS.__call__}
    rates: dict[str, list[float]] = {k: [] for k in paths}
    for _ in range(args.repeats):
        for name, fwd in paths.items():
            rates[name].append(steps_per_second(fwd, crops, data, args.steps))
    for name, r in rates.items():
        print(f"{name}: " + ", ".join(f"{x:.2f}" for x in r) + " it/s")
    pairs = [s / a for s, a in zip(rates["skip unused"], rates["all heads"], strict=True)]
    print("speed-up per alternating pair: " + ", ".join(f"{x:.2f}x" for x in pairs))
    print(f"median speed-up (skip unused / all heads): {statistics.median(pairs):.2f}x")


if __name__ == "__main__":
    main()
