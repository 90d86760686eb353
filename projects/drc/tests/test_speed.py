"""The speed measurement (`python -m drc.speed`): its candidates compute the same map."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from drc.speed import MatmulUpsample, main


def test_matmul_upsampling_is_bilinear_upsampling() -> None:
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    ref = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    torch.testing.assert_close(MatmulUpsample()(x), ref)


def test_speed_report_runs_on_smoke(capsys) -> None:
    main(["--profile", "smoke", "--reps", "1"])
    out = capsys.readouterr().out
    assert "posterior Langevin" in out and "channels-last" in out and "matmul-up" in out
    assert "  default         1.00x   0.00e+00" in out  # the reference against itself
