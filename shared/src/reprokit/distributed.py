"""DistributedDataParallel from torchrun's environment (extra ``torch``).

    info = init_distributed()            # gloo on CPU, NCCL on GPU; 1 process without torchrun
    model = wrap_model(model, info)      # moved to info.device; DDP when world_size > 1
    sampler = torch.utils.data.DistributedSampler(ds, info.world_size, info.rank)
    ...
    stats = all_reduce_mean({"loss": loss.item()})   # same numbers on every rank
    if is_main():                                     # rank 0 logs and checkpoints
        run.log(step, **stats)
    cleanup()

Launch: ``torchrun --nproc_per_node 8 -m <project>.reproduce --profile paper`` (or
``python -m torch.distributed.run --standalone --nproc_per_node 2 ...`` on CPU).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import torch
import torch.distributed as dist

__all__ = [
    "DistInfo",
    "all_reduce_mean",
    "barrier",
    "cleanup",
    "init_distributed",
    "is_main",
    "main_only",
    "print0",
    "unwrap_model",
    "wrap_model",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass(frozen=True)
class DistInfo:
    """Where this process sits: ``rank`` of ``world_size``, ``local_rank`` on its node."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str | None = None

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(backend: str | None = None, device: str | None = None) -> DistInfo:
    """Initialise the process group from torchrun's env (``RANK``, ``WORLD_SIZE``, ...).

    Without those variables this is a single process (rank 0 of 1, nothing initialised).
    The backend is NCCL when CUDA is available (each rank on ``cuda:<local_rank>``), else gloo.
    ``device="cpu"`` forces CPU + gloo even on a GPU machine.
    """
    use_cuda = torch.cuda.is_available() and device != "cpu"
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        dev = torch.device(device or ("cuda" if use_cuda else "cpu"))
        return DistInfo(rank=0, world_size=1, local_rank=0, device=dev)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if use_cuda:
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
    backend = backend or ("nccl" if use_cuda else "gloo")
    if not dist.is_initialized():
        kwargs: dict[str, Any] = {"backend": backend, "rank": rank, "world_size": world}
        if use_cuda and backend == "nccl":
            kwargs["device_id"] = dev
        dist.init_process_group(**kwargs)
    return DistInfo(rank, world, local_rank, dev, backend)


def is_main() -> bool:
    """True on rank 0 (and in a single process)."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def barrier() -> None:
    """Wait for every rank (no-op in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def cleanup() -> None:
    """Destroy the process group if one was initialised, after a barrier.

    Without the barrier a fast rank can tear down while another still talks to the group's
    store (hosted by rank 0), which aborts the slower rank with SIGABRT under gloo.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def all_reduce_mean(values: Mapping[str, float]) -> dict[str, float]:
    """Average scalar metrics over ranks; every rank gets the same dict back."""
    out = {k: float(v) for k, v in values.items()}
    if not (dist.is_available() and dist.is_initialized()) or not out:
        return out
    dev = torch.device("cuda", torch.cuda.current_device()) if _nccl() else torch.device("cpu")
    t = torch.tensor(list(out.values()), dtype=torch.float64, device=dev)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    t /= dist.get_world_size()
    return dict(zip(out, t.tolist()))


def _nccl() -> bool:
    return dist.get_backend() == "nccl"


def wrap_model(model: torch.nn.Module, info: DistInfo | None = None, **ddp_kw: Any) -> Any:
    """Move ``model`` to the rank's device; wrap it in DDP when there is more than one rank.

    DDP broadcasts rank 0's parameters at construction, so every rank starts identical.
    """
    info = info or _current_info()
    model = model.to(info.device)
    if info.world_size <= 1:
        return model
    ids = [info.device.index] if info.device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids, **ddp_kw)


def unwrap_model(model: Any) -> torch.nn.Module:
    """The plain module inside a DDP wrapper (for ``state_dict`` in checkpoints)."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def _current_info() -> DistInfo:
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local = int(os.environ.get("LOCAL_RANK", rank))
        dev = torch.device("cuda", local) if _nccl() else torch.device("cpu")
        return DistInfo(rank, world, local, dev, dist.get_backend())
    return DistInfo(0, 1, 0, torch.device("cuda" if torch.cuda.is_available() else "cpu"))


def main_only(fn: F) -> F:
    """Decorator: run ``fn`` on rank 0 only (others get None), e.g. logging or checkpointing."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs) if is_main() else None

    return wrapper  # type: ignore[return-value]


@main_only
def print0(*args: Any, **kwargs: Any) -> None:
    """``print`` on rank 0 only."""
    print(*args, **kwargs)
