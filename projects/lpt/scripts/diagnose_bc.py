"""Diagnosis of the near-random Maze2D-UMaze scores of the D4RL-style profile (``cpu-d4rl``, the
``cpu`` profile before the park-style redesign; not part of any profile).

Checks, on that profile's data and seed-0 evaluation episodes (same env seeds as the profile):
- how many data segments head for the evaluation goal and what they return;
- BC (same backbone) at 600 (the profile) and 3000 iterations;
- BC trained only on the segments whose controller target is the evaluation goal cell
  ("goal-filtered BC"): if the data/normalisation/rollout pipeline were broken this could not
  reach the goal either;
- DT-final-return at 3000 iterations (y* = best data return, as in the profile).
Reference returns as the profile measures them (random policy / controller, 300-step episodes).
Writes ``results/cpu/diagnosis.json``.

    PYTHONPATH=projects/lpt/src python projects/lpt/scripts/diagnose_bc.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import h5py
import numpy as np
import torch
from lpt.configs import cpu_d4rl
from lpt.data import load_trajectories, to_trajectories
from lpt.evaluate import rollout
from lpt.maze2d import eval_spec, reference_returns
from lpt.train import train

from reprokit.offline_rl import load_d4rl, normalized_score, split_episodes

OUT = Path(__file__).resolve().parents[1] / "results" / "cpu"


def main() -> None:
    torch.set_num_threads(1)
    cfg = cpu_d4rl()
    data, path = load_trajectories(cfg.data)
    spec = eval_spec("umaze", cfg.eval.horizon)
    refs = reference_returns(spec, cfg.data.ref_episodes, 0)
    env_seeds = [100_000 + i for i in range(cfg.eval.n_episodes)]  # profile's seed-0 episodes

    arrays = load_d4rl(path, derive_next_observations=True)
    episodes = split_episodes(arrays)
    with h5py.File(path) as f:
        goals = f["infos/goal"][:]
    starts = np.r_[0, np.flatnonzero(arrays["timeouts"])[:-1] + 1]
    to_goal = np.linalg.norm(goals[starts] - spec.goal_xy, axis=1) < 0.2
    rets = np.array([e["rewards"].sum() for e in episodes])
    lens = np.array([len(e["actions"]) for e in episodes])
    out: dict = {
        "n_segments": len(episodes),
        "n_segments_to_eval_goal": int(to_goal.sum()),
        "return_to_eval_goal_mean": float(rets[to_goal].mean()),
        "return_other_mean": float(rets[~to_goal].mean()),
        "return_max": float(rets.max()),
        "return_max_normalized": float(normalized_score(refs, rets.max())),
        "refs": list(refs),
    }

    keep = [i for i in np.flatnonzero(to_goal) if lens[i] >= 2]
    sub = {k: np.concatenate([episodes[i][k] for i in keep]) for k in ("observations", "actions")}
    sub["rewards"] = np.concatenate([episodes[i]["rewards"] for i in keep])
    sub["terminals"] = np.zeros(len(sub["actions"]), bool)
    sub["timeouts"] = np.zeros(len(sub["actions"]), bool)
    sub["timeouts"][np.cumsum(lens[keep]) - 1] = True
    filtered = to_trajectories(sub, cfg.data.return_scale)
    filtered.obs_mean, filtered.obs_std = data.obs_mean, data.obs_std  # same normaliser
    out["n_goal_filtered_trajectories"] = filtered.n

    runs = [("bc", data, 600), ("bc", data, 3000), ("bc_goal_filtered", filtered, 600)]
    runs.append(("dt", data, 3000))
    for name, d, steps in runs:
        cfg.train.steps = steps
        t0 = time.perf_counter()
        res = train("dt" if name == "dt" else "bc", cfg, d, 0, torch.device("cpu"))
        y_star = float(data.returns.max()) if name == "dt" else None
        R, _ = rollout(res.model, spec, d, env_seeds, y_star=y_star)
        out[f"{name}_{steps}"] = {
            "score": float(np.mean(normalized_score(refs, R))),
            "returns": R.tolist(),
            "final_action_mse": res.history["action_mse"][-1],
            "train_s": time.perf_counter() - t0,
        }
        print(name, steps, out[f"{name}_{steps}"], flush=True)
    (OUT / "diagnosis.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if not isinstance(v, dict)}, indent=2))


if __name__ == "__main__":
    main()
