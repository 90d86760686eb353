"""A tiny resumable training run (driven by test_checkpoint in subprocesses).

usage: _train_tiny.py CKPT_DIR OUT_JSON STEPS EVERY [PAUSE_AT]
(the tests also call main() in-process). Prints "step N" after every step; after step PAUSE_AT
it waits for the test's signal, so the kill lands mid-run however loaded the machine is. On
SIGTERM it checkpoints after the current step and exits 143.
"""

from __future__ import annotations

import json
import sys
import time

import torch

from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer, TerminationFlag, capture_rng_state, check_finite


def main(argv: list[str]) -> None:
    ckpt_dir, out, steps, every = argv[0], argv[1], int(argv[2]), int(argv[3])
    pause_at = int(argv[4]) if len(argv) > 4 else -1
    torch.set_num_threads(1)
    rng = seed_everything(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Dropout(0.2), torch.nn.Linear(16, 1)
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    ckpt = Checkpointer(ckpt_dir, every=every, keep=2)
    start = ckpt.resume(model, opt, np_rng=rng)
    losses = list(ckpt.state["losses"]) if ckpt.state else []
    print(f"start {start}", flush=True)
    with TerminationFlag() as stop:
        for step in range(start, steps):
            x = torch.randn(32, 4)  # torch RNG
            noise = torch.as_tensor(rng.normal(size=(32, 1)), dtype=torch.float32)  # numpy RNG
            y = x.sum(1, keepdim=True).sin() + 0.1 * noise
            loss = torch.nn.functional.mse_loss(model(x), y)  # dropout uses torch RNG
            opt.zero_grad()
            loss.backward()
            opt.step()
            check_finite(loss, step)
            losses.append(loss.item())
            done = step + 1
            print(f"step {done}", flush=True)
            deadline = time.monotonic() + 60
            while done == pause_at and not stop.requested and time.monotonic() < deadline:
                time.sleep(0.01)  # the test signals now (SIGKILL ends the process here)
            if ckpt.due(done) or stop.requested:
                state = {"model": model.state_dict(), "optimizer": opt.state_dict()}
                ckpt.save(done, {**state, "losses": losses, "rng": capture_rng_state(rng)})
            if stop.requested:
                sys.exit(143)
    params = [p.detach().double().flatten().tolist() for p in model.parameters()]
    with open(out, "w") as f:
        json.dump({"losses": losses, "params": params}, f)


if __name__ == "__main__":
    main(sys.argv[1:])
