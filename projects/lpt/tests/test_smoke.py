"""The real entry point on the smoke profile, in a tmp dir."""

from __future__ import annotations

import json

from lpt.reproduce import main

KEYS = (
    "maze2d_umaze_lpt_score",
    "maze2d_umaze_lpt_ei_score",
    "maze2d_umaze_dt_score",
    "maze2d_umaze_bc_score",
    "maze2d_umaze_lpt_no_unet_score",
    "maze2d_umaze_target_spearman",
    "wall_time_s",
)


def test_smoke_profile_end_to_end(tmp_path, monkeypatch):
    from lpt.configs import smoke

    monkeypatch.setenv("REPROKIT_DATA", str(tmp_path / "data"))
    cfg = smoke()
    cfg.out = tmp_path / "out"
    metrics = main(cfg, "smoke")
    saved = json.loads((cfg.out / "metrics.json").read_text())
    for k in KEYS:
        assert k in saved and saved[k] == saved[k], k  # present and not NaN
    assert metrics["rollout_speedup"] > 0
    assert (cfg.out / "RESULTS.md").exists() and (cfg.out / "target_sweep.png").exists()
