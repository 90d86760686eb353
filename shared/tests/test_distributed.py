"""reprokit.distributed: 2 gloo ranks under torchrun end with identical parameters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from reprokit.distributed import (  # noqa: E402
    all_reduce_mean,
    cleanup,
    init_distributed,
    is_main,
    print0,
    wrap_model,
)

SCRIPT = str(Path(__file__).parent / "_ddp_tiny.py")


def test_single_process_fallback(monkeypatch, capsys):
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    info = init_distributed(device="cpu")
    assert (info.rank, info.world_size, info.local_rank) == (0, 1, 0)
    assert info.device == torch.device("cpu") and not info.distributed and info.is_main
    assert is_main()
    assert all_reduce_mean({"a": 1.5}) == {"a": 1.5}
    m = torch.nn.Linear(2, 2)
    assert wrap_model(m, info) is m
    print0("hello")
    assert capsys.readouterr().out == "hello\n"
    cleanup()


def test_two_gloo_ranks_hold_identical_parameters(tmp_path):
    steps = 4
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    r = subprocess.run(
        [*cmd, SCRIPT, str(tmp_path), str(steps)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{i}.pt", weights_only=True) for i in (0, 1))
    assert r0["main"] and not r1["main"]
    for k in r0["params"]:
        assert torch.equal(r0["params"][k], r1["params"][k]), k
    local0, mean0 = zip(*r0["losses"])
    local1, mean1 = zip(*r1["losses"])
    assert local0 != local1  # the ranks saw different data
    assert mean0 == mean1  # all_reduce_mean agrees on every rank
    assert mean0[0] == pytest.approx((local0[0] + local1[0]) / 2)

    # DDP equals one process on the concatenated batch (mean-reduced loss, equal shards).
    torch.manual_seed(100)  # rank 0's initialisation, broadcast by DDP
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gens = [torch.Generator().manual_seed(r) for r in (0, 1)]
    for _ in range(steps):
        x = torch.cat([torch.randn(8, 3, generator=g) for g in gens])
        y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, r0["params"][k], rtol=1e-5, atol=1e-6)
