"""What a training loop reports to its caller: log lines, a progress bar and step boundaries.

``reproduce`` passes the unit's ``Run.log`` / ``Run.progress`` and ``Session.boundary``; a
library call passes nothing and the loops run silently without stop handling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reprokit.errors import DivergenceError


@dataclass
class Hooks:
    """Callbacks of one training loop (each optional)."""

    log: Callable[..., None] | None = None  # log(step, **scalars)
    progress: Callable[..., Iterable[int]] | None = None  # progress(iterable, desc=, total=)
    boundary: Callable[[str, Callable[[], Any]], None] | None = None  # Session.boundary

    def steps(self, start: int, stop: int, desc: str) -> Iterable[int]:
        """``range(start, stop)``, through the progress bar when there is one."""
        steps = range(start, stop)
        return self.progress(steps, desc=desc, total=len(steps)) if self.progress else steps

    def at_boundary(self, where: str, save: Callable[[], Any]) -> None:
        """A step boundary: on a stop request ``save()`` runs and the loop is interrupted."""
        if self.boundary is not None:
            self.boundary(where, save)


def diverged(what: str, step: int, kept: Path | None, kept_step: int) -> DivergenceError:
    """The one-line divergence error, naming the checkpoint that is kept (if any)."""
    where = f"{kept} (iteration {kept_step}) is kept" if kept else "no checkpoint was written yet"
    return DivergenceError(f"{what} are not finite at iteration {step}: training diverged; {where}")
