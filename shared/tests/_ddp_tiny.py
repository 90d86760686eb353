"""Two-rank DDP run on CPU (launched by test_distributed through torchrun).

usage: _ddp_tiny.py OUT_DIR STEPS. Each rank starts from different random weights and sees
different data; DDP must leave both with identical parameters.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from reprokit.distributed import (
    all_reduce_mean,
    barrier,
    cleanup,
    init_distributed,
    is_main,
    unwrap_model,
    wrap_model,
)


def main(out: Path, steps: int) -> None:
    torch.set_num_threads(1)
    info = init_distributed()
    assert info.world_size == 2 and info.backend == "gloo" and info.device.type == "cpu"
    torch.manual_seed(100 + info.rank)  # different init per rank: DDP broadcasts rank 0's
    model = wrap_model(torch.nn.Linear(3, 1), info)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(info.rank)  # different data per rank
    losses = []
    for _ in range(steps):
        x = torch.randn(8, 3, generator=g)
        y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append((loss.item(), all_reduce_mean({"loss": loss.item()})["loss"]))
    state = {k: v.detach().clone() for k, v in unwrap_model(model).state_dict().items()}
    torch.save({"params": state, "losses": losses, "main": is_main()}, out / f"rank{info.rank}.pt")
    barrier()
    cleanup()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
