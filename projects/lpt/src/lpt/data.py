"""Offline data: generate (cached), write/read in D4RL format, and batch whole trajectories.

Locally generated data (``lpt.maze2d``, ``lpt.halfcheetah``, ``lpt.connect4``) is built once,
cached as ``.npz`` with ``reprokit.cache`` (keyed by generator version and parameters), written to
a D4RL-format
hdf5 next to the cache with ``reprokit.offline_rl.write_d4rl`` and always read back through
``reprokit.offline_rl.load_d4rl``, the same reader the ``paper`` profile uses for real D4RL files.
Training examples are whole trajectories (official collator: start index 0), drawn with
probability proportional to their length; y = final return / scale; states are normalised with
the dataset mean/std. No step rewards or returns-to-go leave this module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from lpt import connect4, halfcheetah
from lpt.configs import DataCfg
from lpt.maze2d import generate_dataset
from reprokit.cache import cached_npz, data_dir
from reprokit.errors import UserError
from reprokit.offline_rl import load_d4rl, split_episodes, write_d4rl

GENERATOR_VERSION = 1


GYM_MUJOCO = ("halfcheetah", "hopper", "walker2d")
# (observation, action) widths of each environment's data and evaluation episodes.
ENV_DIMS = {
    "maze2d-umaze": (4, 2),
    "maze2d-medium": (4, 2),
    "halfcheetah": (17, 6),
    "hopper": (11, 3),
    "walker2d": (17, 6),
    "connect4": (connect4.OBS_DIM, connect4.N_ACTIONS),
}


def is_cheetah(env: str) -> bool:
    return env == "halfcheetah"


def is_connect4(env: str) -> bool:
    return env == "connect4"


def is_maze(env: str) -> bool:
    return env.startswith("maze2d-")


def check_env(env: str, path: Path | None = None) -> None:
    """Known environment, and a data source for it (hopper/walker2d: only a D4RL file)."""
    if not (is_maze(env) or is_connect4(env) or env in GYM_MUJOCO):
        raise UserError(
            f"unknown environment {env!r}; expected maze2d-umaze, maze2d-medium, halfcheetah, "
            "hopper, walker2d or connect4"
        )
    if env in GYM_MUJOCO and not is_cheetah(env) and path is None:
        raise UserError(f"{env} has no local data generator; give a D4RL hdf5 with --data.path")


def maze_of(env: str) -> str:
    if not is_maze(env):
        raise ValueError(f"{env!r} is not a maze2d environment")
    return env.removeprefix("maze2d-")


def _cached_arrays(cfg: DataCfg) -> tuple[dict, dict[str, np.ndarray]]:
    """(cache parameters, generated arrays), built once and cached by reprokit.cache."""
    params = {
        "env": cfg.env,
        "n_steps": cfg.n_steps,
        "max_segment": cfg.max_segment,
        "action_noise": cfg.action_noise,
        "seed": cfg.seed,
    }
    if is_maze(cfg.env) and cfg.style != "d4rl":  # the D4RL path keeps its earlier cache key
        params["style"] = cfg.style
    if is_cheetah(cfg.env):
        params = {k: v for k, v in params.items() if k != "action_noise"}
        params |= {"cem": f"{cfg.cem_iters}x{cfg.cem_pop}", "noise": list(cfg.noise_levels)}
    if is_connect4(cfg.env):
        params = {
            "env": cfg.env,
            "n_games": cfg.n_games,
            "opp_depth": cfg.opp_depth,
            "strong_depth": cfg.strong_depth,
            "eps": cfg.eps,
            "p_specialised": cfg.p_specialised,
            "seed": cfg.seed,
        }
    arrays = cached_npz(f"lpt-{cfg.env}", GENERATOR_VERSION, params, build=lambda: _build(cfg))
    return params, arrays


def local_dataset_path(cfg: DataCfg) -> Path:
    """Generate (or reuse) the cached dataset and make sure its D4RL hdf5 exists; return it."""
    params, arrays = _cached_arrays(cfg)
    tag = "-".join(f"{k}{v}" for k, v in params.items() if k not in ("env", "noise"))
    if "noise" in params:
        tag += "-noise" + "_".join(map(str, params["noise"]))
    path = data_dir() / "lpt" / f"{cfg.env}-local-v{GENERATOR_VERSION}-{tag}.hdf5"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        extra = ("goals", "qvel", "policy_level", "noise", "best_theta", "policy", "action_mask")
        d4rl = {k: v for k, v in arrays.items() if k not in extra}
        names = {k: k for k in ("qvel", "policy_level", "noise", "policy", "action_mask")}
        names["goal"] = "goals"
        infos = {k: arrays[v] for k, v in names.items() if v in arrays}
        write_d4rl(path, d4rl | {"infos": infos})
    return path


def _build(cfg: DataCfg) -> dict[str, np.ndarray]:
    if is_connect4(cfg.env):
        return connect4.generate_dataset(
            cfg.n_games, cfg.opp_depth, cfg.strong_depth, cfg.eps, cfg.p_specialised, cfg.seed
        )
    if is_cheetah(cfg.env):
        return halfcheetah.generate_dataset(
            cfg.n_steps // cfg.max_segment,
            cfg.max_segment,
            cfg.cem_iters,
            cfg.cem_pop,
            cfg.noise_levels,
            cfg.seed,
        )
    return generate_dataset(
        maze_of(cfg.env), cfg.n_steps, cfg.max_segment, cfg.action_noise, cfg.seed, cfg.style
    )


def best_generator_theta(cfg: DataCfg) -> np.ndarray:
    """HalfCheetah: the final CEM mean θ of the (cached) generator run."""
    return _cached_arrays(cfg)[1]["best_theta"]


@dataclass
class Trajectories:
    """Whole trajectories with their final returns; states normalised on the fly."""

    states: list[np.ndarray]  # each (T_i, obs_dim)
    actions: list[np.ndarray]  # each (T_i, act_dim)
    returns: np.ndarray  # (n,) raw final returns
    scale: float
    obs_mean: np.ndarray
    obs_std: np.ndarray
    discrete: bool = False  # one-hot actions with a categorical likelihood (Connect Four)

    @property
    def n(self) -> int:
        return len(self.states)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.states])

    @property
    def obs_dim(self) -> int:
        return self.states[0].shape[1]

    @property
    def act_dim(self) -> int:
        return self.actions[0].shape[1]

    def sample(self, rng: np.random.Generator, B: int) -> np.ndarray:
        """Trajectory ids drawn with probability ∝ length (official sampler)."""
        p = self.lengths / self.lengths.sum()
        return rng.choice(self.n, size=B, p=p)

    def subset(self, keep: np.ndarray) -> Trajectories:
        """The trajectories ``keep`` with this dataset's scale and state normaliser."""
        if len(keep) == 0:
            raise UserError("the subset of trajectories is empty")
        pick = lambda xs: [xs[i] for i in keep]  # noqa: E731
        return replace(
            self, states=pick(self.states), actions=pick(self.actions), returns=self.returns[keep]
        )

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        return ((obs - self.obs_mean) / self.obs_std).astype(np.float32)

    def batch(self, idx: np.ndarray, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """Right-padded batch: states (B, T, obs), actions (B, T, act), mask (B, T), y (B,)."""
        T = int(self.lengths[idx].max())
        B = len(idx)
        S = np.zeros((B, T, self.obs_dim), np.float32)
        A = np.zeros((B, T, self.act_dim), np.float32)
        M = np.zeros((B, T), np.float32)
        for b, i in enumerate(idx):
            L = len(self.states[i])
            S[b, :L], A[b, :L], M[b, :L] = self.normalize(self.states[i]), self.actions[i], 1.0
        y = (self.returns[idx] / self.scale).astype(np.float32)
        out = {"states": S, "actions": A, "mask": M, "y": y}
        return {k: torch.from_numpy(v).to(device) for k, v in out.items()} | {
            "idx": torch.from_numpy(np.asarray(idx, dtype=np.int64)).to(device)
        }


def to_trajectories(
    arrays: dict[str, np.ndarray], scale: float, discrete: bool = False
) -> Trajectories:
    """Split D4RL arrays on terminals | timeouts into whole trajectories with final returns.

    Discrete data (one-hot actions, board observations) is not normalised: a board cell that is
    always empty in the data would otherwise be divided by a zero standard deviation.
    """
    episodes = split_episodes(arrays)
    episodes = [e for e in episodes if len(e["actions"]) >= (1 if discrete else 2)]
    if not episodes:
        raise UserError("dataset has no trajectory of length >= 2")
    obs = arrays["observations"]
    dim = obs.shape[1]
    return Trajectories(
        states=[e["observations"].astype(np.float32) for e in episodes],
        actions=[np.clip(e["actions"], -1, 1).astype(np.float32) for e in episodes],
        returns=np.array([float(e["rewards"].sum()) for e in episodes]),
        scale=scale,
        obs_mean=np.zeros(dim) if discrete else obs.mean(0),
        obs_std=np.ones(dim) if discrete else obs.std(0) + 1e-6,
        discrete=discrete,
    )


def check_widths(env: str, arrays: dict[str, np.ndarray], path: Path) -> None:
    """Observation and action widths of the data agree with the environment (before training)."""
    for key, want in zip(("observations", "actions"), ENV_DIMS[env], strict=True):
        got = arrays[key].shape[1] if arrays[key].ndim == 2 else None
        if got != want:
            raise UserError(
                f"{path}: {key} have width {got}, but {env} has {want}; "
                "is this the D4RL file of another environment?"
            )


def load_trajectories(cfg: DataCfg) -> tuple[Trajectories, Path]:
    """D4RL file given by path (paper profile) or the locally generated one; read via reprokit.

    The file's observation / action widths are checked against the environment first."""
    check_env(cfg.env, cfg.path)
    path = cfg.path if cfg.path is not None else local_dataset_path(cfg)
    arrays = load_d4rl(path, derive_next_observations=True)
    check_widths(cfg.env, arrays, Path(path))
    return to_trajectories(arrays, cfg.return_scale, is_connect4(cfg.env)), Path(path)
