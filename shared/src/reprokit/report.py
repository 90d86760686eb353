"""From a run's numbers to ``metrics.json`` and a RESULTS.md a reader can trust.

stats = summarize([0.61, 0.58, 0.64])            # {"mean", "std", "n", "values"}
write_metrics(out / "metrics.json", {"lpt": stats, "dt": summarize(dt)})
claim = Claim(text="LPT beats DT", metric="maze2d_umaze_score", paper="65 vs 31 (D4RL)",
              ours=format_mean_std(stats), baseline="DT " + format_mean_std(dt_stats),
              held=stats["mean"] > dt_stats["mean"])
write_results(project_root / "RESULTS.md", title="LPT (CPU profile)", claims=[claim],
              figures={"Learning curves": out / "curves.png"}, wall_time_s=512.0,
              command="make reproduce PROJECT=lpt", profile="cpu", seeds=[0, 1, 2])
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from reprokit.atomic import atomic_path
from reprokit.provenance import git_info, machine_info

__all__ = [
    "Claim",
    "format_mean_std",
    "jsonable",
    "results_dir",
    "summarize",
    "write_metrics",
    "write_results",
]


def summarize(values: Iterable[float]) -> dict[str, Any]:
    """``{"mean", "std", "n", "values"}``; std is the sample std (ddof=1), 0.0 for n = 1."""
    vals = [float(v) for v in np.asarray(list(values), dtype=np.float64).ravel()]
    n = len(vals)
    if n == 0:
        return {"mean": math.nan, "std": math.nan, "n": 0, "values": []}
    arr = np.asarray(vals)
    std = float(arr.std(ddof=1)) if n > 1 else 0.0
    return {"mean": float(arr.mean()), "std": std, "n": n, "values": vals}


def format_mean_std(d: Mapping[str, Any] | Sequence[float], digits: int | None = None) -> str:
    """``"61.2 ± 3.1 (n=3)"`` from a :func:`summarize` dict (or a list of values).

    ``digits`` fixes the number of decimals; by default the std gets two significant digits
    and the mean the same number of decimals.
    """
    if not isinstance(d, Mapping):
        d = summarize(d)
    mean, std, n = float(d["mean"]), float(d.get("std", 0.0)), int(d.get("n", 1))
    if digits is None:
        if math.isfinite(std) and std > 0:
            digits = int(min(6, max(0, 1 - math.floor(math.log10(std)))))
        elif math.isfinite(mean) and mean != 0:
            digits = int(min(6, max(0, 3 - math.floor(math.log10(abs(mean))))))
        else:
            digits = 2
    return f"{mean:.{digits}f} ± {std:.{digits}f} (n={n})"


@dataclasses.dataclass
class Claim:
    """One row of the claim table.

    Attributes:
        text: the paper's claim in words ("LPT beats DT on maze2d-umaze").
        metric: the metrics.json key(s) the row is read from.
        paper: the paper's number, in the paper's own setting ("65 vs 31 (D4RL)").
        ours: our number, e.g. ``format_mean_std(stats)``; a summarize dict is formatted.
        baseline: the baseline / ablation under the same budget.
        held: whether the claim held at this scale (None: not decidable).
    """

    text: str
    metric: str
    paper: str
    ours: str | Mapping[str, Any]
    baseline: str = ""
    held: bool | None = None


def jsonable(obj: Any) -> Any:
    """Convert numpy / torch / jax values, Paths, tuples and dataclasses to plain JSON types."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, str | bool | int | float) or obj is None:
        return obj
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "detach") and hasattr(obj, "cpu"):  # torch tensor
        return jsonable(obj.detach().cpu().numpy())
    if hasattr(obj, "__array__"):  # jax array and friends
        return jsonable(np.asarray(obj))
    raise TypeError(f"cannot write {type(obj).__name__} to JSON: {obj!r}")


def _atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_metrics(path: str | Path, metrics: Mapping[str, Any]) -> Path:
    """Write ``metrics`` as indented JSON, atomically (temp file + rename); returns the path."""
    path = Path(path)
    _atomic_write_text(path, json.dumps(jsonable(metrics), indent=2) + "\n")
    return path


def _find_root(anchor: str | Path) -> Path | None:
    p = Path(anchor).resolve()
    for d in [p, *p.parents] if p.is_dir() else list(p.parents):
        if (d / "pyproject.toml").is_file():
            return d
    return None


def results_dir(
    project: str,
    profile: str,
    anchor: str | Path | None = None,
    out: str | Path | None = None,
) -> Path:
    """The folder a profile writes its results to, created.

    ``out`` wins when given (``--out DIR``; tests pass a tmp dir). Otherwise
    ``<project root>/results/<profile>``, where the project root is the first folder above
    ``anchor`` (pass ``__file__``) that holds a ``pyproject.toml``; without one (an installed,
    non-editable package) it is ``./results/<profile>``.
    """
    if out is not None:
        d = Path(out)
    else:
        root = _find_root(anchor) if anchor is not None else None
        d = (root if root is not None else Path.cwd()) / "results" / profile
    d.mkdir(parents=True, exist_ok=True)
    return d


def _cell(x: Any) -> str:
    text = format_mean_std(x) if isinstance(x, Mapping) else str(x)
    return text.replace("|", "\\|").replace("\n", "<br>") or "—"


def _held(h: bool | None) -> str:
    return "—" if h is None else ("yes" if h else "**no**")


def _fmt_time(s: float) -> str:
    return f"{s:.0f} s ({s / 60:.1f} min)" if s >= 60 else f"{s:.1f} s"


def write_results(
    path: str | Path,
    title: str,
    claims: Sequence[Claim],
    figures: Mapping[str, str | Path] | None = None,
    wall_time_s: float | None = None,
    command: str | None = None,
    profile: str = "cpu",
    seeds: Sequence[int] | None = None,
    notes: str | None = None,
    metrics_path: str | Path | None = None,
) -> Path:
    """Write RESULTS.md: claim table, figures (relative links), wall time, machine, command.

    Args:
        path: the markdown file (usually ``<project>/RESULTS.md``).
        title: first heading.
        claims: rows of the claim table.
        figures: caption -> image path; links are made relative to ``path``'s folder.
        wall_time_s: wall time of the whole command.
        command: the command that produced the numbers.
        profile: the profile name (the "Ours" column says which).
        seeds: the seeds the numbers average over.
        notes: free markdown appended under "Notes".
        metrics_path: the metrics.json the numbers come from (linked).
    """
    path = Path(path)
    base = path.parent.resolve()

    def rel(p: str | Path) -> str:
        return Path(os.path.relpath(Path(p).resolve(), base)).as_posix()

    m = machine_info()
    git = git_info(base)
    lines = [f"# {title}", ""]
    lines.append(
        f"Numbers in the *Ours* column come from the `{profile}` profile (small scale, "
        "run by the command below) and are **not** comparable with the paper's tables; the "
        "*Paper* column quotes the paper in its own setting."
    )
    lines += ["", "## Claims", ""]
    label = "CPU" if profile == "cpu" else profile
    lines.append(
        f"| Claim | Metric | Paper (its own setting) | Ours ({label} profile, mean ± std, n) "
        "| Baseline / ablation | Held? |"
    )
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for c in claims:
        cells = [_cell(c.text), f"`{c.metric}`", _cell(c.paper), _cell(c.ours), _cell(c.baseline)]
        lines.append("| " + " | ".join([*cells, _held(c.held)]) + " |")
    if figures:
        lines += ["", "## Figures", ""]
        for caption, fig in figures.items():
            lines += [f"**{caption}**", "", f"![{caption}]({rel(fig)})", ""]
    lines += ["", "## Run", ""]
    if command:
        lines.append(f"- Command: `{command}`")
    lines.append(f"- Profile: `{profile}`")
    if seeds is not None:
        lines.append(f"- Seeds: {', '.join(str(s) for s in seeds)} (n={len(seeds)})")
    if wall_time_s is not None:
        lines.append(f"- Wall time: {_fmt_time(float(wall_time_s))}")
    if metrics_path is not None:
        lines.append(f"- Metrics: [`{rel(metrics_path)}`]({rel(metrics_path)})")
    cores = f"{m['cpu_available']} available of {m['cpu_count']}"
    lines.append(f"- Machine: {m['cpu']} ({cores} cores), {m['platform']}")
    lines.append(f"- Python {m['python']}, OMP_NUM_THREADS={m['OMP_NUM_THREADS']}")
    if m["gpus"]:
        lines.append(f"- GPUs: {', '.join(m['gpus'])}")
    if git["commit"]:
        dirty = " (uncommitted changes)" if git["dirty"] else ""
        lines.append(f"- Code: git {git['commit'][:12]}{dirty}")
    lines.append(f"- Written: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    if notes:
        lines += ["", "## Notes", "", notes.strip()]
    _atomic_write_text(path, "\n".join(lines).rstrip() + "\n")
    return path
