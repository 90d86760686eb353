"""One folder per run: resolved config, provenance, metrics (JSONL + TensorBoard), final metrics.

    with Run(project="emd", profile="cpu", config=cfg, seed=0) as run:
        for step in run.progress(range(n), desc="train"):
            loss = ...
            run.log(step, loss=loss, acc=acc)          # metrics.jsonl (+ TensorBoard, + wandb)
        run.finish({"fid": fid})                        # metrics.json in run.dir

The folder is ``<root>/<project>/<profile>/<YYYYmmdd-HHMMSS>-<seed>/`` where root is the
``root`` argument, else ``$REPROKIT_RUNS``, else ``./runs``. It holds ``run.json`` (config, git
commit and dirty flag, package versions, seed, host/CPU/GPU, start/end time, status),
``metrics.jsonl`` (one line per ``log``: step, wall time since start, values), TensorBoard
event files when the ``tensorboard`` package is importable, and ``metrics.json`` after
``finish``. Weights & Biases is used only when ``wandb=True`` is passed and it is installed.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from reprokit.provenance import git_info, machine_info, package_versions
from reprokit.report import jsonable, write_metrics

__all__ = ["Run", "runs_root"]

T = TypeVar("T")


def runs_root(root: str | Path | None = None) -> Path:
    """``root`` if given, else ``$REPROKIT_RUNS``, else ``./runs``."""
    if root is None:
        root = os.environ.get("REPROKIT_RUNS") or "runs"
    return Path(root).expanduser().absolute()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _scalar(v: Any) -> Any:
    """numpy / torch / jax 0-d values -> python numbers; other values unchanged."""
    if isinstance(v, bool | int | float | str) or v is None:
        return v
    if hasattr(v, "item"):
        try:
            return v.item()
        except (ValueError, RuntimeError):
            pass
    return jsonable(v)


class _TensorBoard:
    """Scalar event files via ``tensorboard.summary.Writer`` (or torch's SummaryWriter)."""

    def __init__(self, logdir: Path) -> None:
        self.writer: Any = None
        try:
            from tensorboard.summary import Writer

            self.writer = Writer(str(logdir))
            return
        except Exception:
            pass
        if "torch" in sys.modules:  # only when the project already uses torch
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(logdir))
            except Exception:
                self.writer = None

    def scalars(self, step: int, values: Mapping[str, Any]) -> None:
        if self.writer is None:
            return
        for k, v in values.items():
            if isinstance(v, bool | int | float) and math.isfinite(float(v)):
                self.writer.add_scalar(k, float(v), int(step))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
            self.writer = None


class Run:
    """A run folder with provenance and metric logs; also a context manager.

    Args:
        project: project name (first folder level).
        profile: profile name (second level).
        config: the resolved config (a dataclass or a dict); written to run.json.
        seed: the run's seed (part of the folder name).
        root: runs root; default ``$REPROKIT_RUNS`` or ``./runs``.
        tensorboard: write TensorBoard events when the package is importable.
        wandb: also log to Weights & Biases (lazy import; skipped with a note if missing).
        name: optional suffix of the folder name.
        extra_packages: distribution names whose versions are recorded as well.
        folder: use this folder instead of a new timestamped one (a lifecycle unit folder:
            a resumed run appends to its metrics.jsonl and counts the restart in run.json).
    """

    def __init__(
        self,
        project: str,
        profile: str,
        config: Any = None,
        seed: int = 0,
        root: str | Path | None = None,
        *,
        tensorboard: bool = True,
        wandb: bool = False,
        name: str | None = None,
        extra_packages: Iterable[str] = (),
        folder: str | Path | None = None,
    ) -> None:
        self.project, self.profile, self.seed = project, profile, int(seed)
        self._t0 = time.time()
        starts = 1
        if folder is not None:
            self.dir = Path(folder)
            self.dir.mkdir(parents=True, exist_ok=True)
            if (self.dir / "run.json").exists():
                try:
                    starts = int(json.loads((self.dir / "run.json").read_text())["starts"]) + 1
                except (ValueError, KeyError, TypeError):
                    starts = 2
        else:
            self.dir = self._new_folder(runs_root(root) / project / profile, name)
        self.latest: dict[str, Any] = {}
        self._bar: Any = None
        self._finished = False
        self._jsonl = (self.dir / "metrics.jsonl").open("a", encoding="utf-8")
        self._tb = _TensorBoard(self.dir / "tb") if tensorboard else None
        self._wandb: Any = None
        cfg = jsonable(config) if config is not None else None
        self.info: dict[str, Any] = {
            "project": project,
            "profile": profile,
            "seed": self.seed,
            "config": cfg,
            "argv": list(sys.argv),
            "git": git_info(),
            "packages": package_versions((*extra_packages, project)),
            "machine": machine_info(),
            "start_time": _now(),
            "end_time": None,
            "wall_time_s": None,
            "status": "running",
            "starts": starts,
        }
        self._write_info()
        if wandb:
            self._init_wandb(cfg)

    # ------------------------------------------------------------------ internals

    def _new_folder(self, base: Path, name: str | None) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self._t0))
        stem = f"{stamp}-{self.seed}" + (f"-{name}" if name else "")
        folder, k = base / stem, 1
        while True:
            try:
                folder.mkdir(parents=True, exist_ok=False)
                return folder
            except FileExistsError:  # two runs in the same second with the same seed
                folder, k = base / f"{stem}.{k}", k + 1

    def _write_info(self) -> None:
        write_metrics(self.dir / "run.json", self.info)

    def _init_wandb(self, cfg: Any) -> None:
        try:
            import wandb
        except ImportError:
            print("reprokit: wandb=True but wandb is not installed; skipping it", file=sys.stderr)
            return
        self._wandb = wandb.init(
            project=self.project,
            group=self.profile,
            name=self.dir.name,
            config=cfg,
            dir=str(self.dir),
        )

    # ------------------------------------------------------------------ public API

    @property
    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.time() - self._t0

    def path(self, name: str) -> Path:
        """A path inside the run folder (parents created)."""
        p = self.dir / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def log(self, step: int, values: Mapping[str, Any] | None = None, **kw: Any) -> None:
        """Record metrics at ``step``: ``log(step, loss=l)`` or ``log(step, {"a/b": x})``."""
        vals = {str(k): _scalar(v) for k, v in {**(values or {}), **kw}.items()}
        rec = {"step": int(step), "time": round(self.elapsed, 4), **vals}
        self._jsonl.write(json.dumps(rec) + "\n")
        self._jsonl.flush()
        self.latest.update(vals)
        if self._tb is not None:
            self._tb.scalars(step, vals)
        if self._wandb is not None:
            self._wandb.log(vals, step=int(step))
        if self._bar is not None:
            self._bar.set_postfix(
                {k: f"{v:.4g}" if isinstance(v, float) else v for k, v in self.latest.items()},
                refresh=False,
            )

    def progress(
        self, iterable: Iterable[T], desc: str | None = None, total: int | None = None, **kw: Any
    ) -> Iterator[T]:
        """Iterate with a tqdm bar (ETA; the latest logged metrics as postfix)."""
        kw.setdefault("dynamic_ncols", True)
        kw.setdefault("mininterval", 0.5)
        bar = tqdm(iterable, desc=desc, total=total, **kw)
        outer, self._bar = self._bar, bar
        try:
            yield from bar
        finally:
            bar.close()
            self._bar = outer

    def finish(self, metrics: Mapping[str, Any] | None = None) -> Path:
        """Write ``metrics.json`` (and close run.json with end time and status 'finished')."""
        out = write_metrics(self.dir / "metrics.json", dict(metrics or {}))
        self._close("finished")
        return out

    def _close(self, status: str, error: str | None = None) -> None:
        if self._finished:
            return
        self._finished = True
        self.info.update(end_time=_now(), wall_time_s=round(self.elapsed, 3), status=status)
        if error:
            self.info["error"] = error
        self._write_info()
        self._jsonl.close()
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()

    def close(self) -> None:
        """End the run without final metrics (status 'closed' unless already finished)."""
        self._close("closed")

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        from reprokit.errors import DivergenceError
        from reprokit.lifecycle import Interrupted

        if exc_type is None:
            self._close("closed")
        elif issubclass(exc_type, KeyboardInterrupt | Interrupted):
            self._close("interrupted")
        elif issubclass(exc_type, DivergenceError):
            self._close("diverged", f"{exc}")
        else:
            self._close("failed", f"{exc_type.__name__}: {exc}")
