"""Training speed of LPT and DT-final-return on the ``cpu`` profile's data and model sizes, at
batch 8 (the profile) and 16 (the research note's pilot option): the measurement that sized the
``cpu`` and ``cpu-long`` profiles (issue 15, item 1). One thread; run it inside a CPU slot:

    /work/briefs/cpu-slot env OMP_NUM_THREADS=1 PYTHONPATH=projects/lpt/src:shared/src \
        .venvs/lpt/bin/python projects/lpt/scripts/measure_speed.py
"""

from __future__ import annotations

from dataclasses import replace

import torch
from lpt.configs import cpu
from lpt.data import load_trajectories
from lpt.train import train

STEPS = {"lpt": 120, "dt": 300}  # timed optimisation steps per method (a few seconds each)


def main() -> None:
    torch.set_num_threads(1)
    cfg = cpu()
    data, _ = load_trajectories(cfg.data)
    print(f"data: {data.n} trajectories, {int(data.lengths.sum())} transitions")
    for batch in (8, 16):
        for method, steps in STEPS.items():
            t = replace(cfg.train, steps=steps, batch_size=batch, ckpt_every=0)
            res = train(method, replace(cfg, train=t), data, 0, torch.device("cpu"))
            print(f"batch {batch} {method}: {res.iters_per_s:.2f} it/s over {steps} steps")


if __name__ == "__main__":
    main()
