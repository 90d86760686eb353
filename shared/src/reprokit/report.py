"""From a judged :class:`reprokit.claims.Evidence` to a RESULTS.md a reader can trust.

ev.judge(GATES, CLAIMS)
ev.write(out / "metrics.json", wall_time_s=512.0)
write_results(project_root / "RESULTS.md", ev.to_dict(512.0), title="LPT (CPU profile)",
              figures={"Learning curves": out / "curves.png"},
              command="make reproduce PROJECT=lpt", metrics_path=out / "metrics.json")

The gates and claims tables are generated from the metrics document by :func:`claims_table`
(the repo's contract tests regenerate it from the committed metrics.json and compare); prose in
``notes`` may interpret a verdict but cannot change it.
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
from reprokit.provenance import git_info, machine_info, project_code_scope

__all__ = [
    "claims_table",
    "console_summary",
    "format_mean_std",
    "jsonable",
    "keep_sections",
    "marked_section",
    "merge_section",
    "results_dir",
    "retable",
    "section_markers",
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
    and the mean the same number of decimals. Numbers too small for six decimals (a mean and
    std below 1e-4, say 8e-16) are written in scientific notation instead of as ``0.000000``.
    """
    if not isinstance(d, Mapping):
        d = summarize(d)
    if "value" in d and "mean" not in d:
        return "—" if d["value"] is None else f"{float(d['value']):.4g}"
    if d.get("mean") is None:
        return f"— (n={int(d.get('n', 0))})"
    mean, std, n = float(d["mean"]), float(d.get("std") or 0.0), int(d.get("n", 1))
    if digits is None and 0 < max(abs(mean), std) < 1e-4:
        return f"{mean:.2e} ± {std:.1e} (n={n})"
    if digits is None:
        if math.isfinite(std) and std > 0:
            digits = int(min(6, max(0, 1 - math.floor(math.log10(std)))))
        elif math.isfinite(mean) and mean != 0:
            digits = int(min(6, max(0, 3 - math.floor(math.log10(abs(mean))))))
        else:
            digits = 2
    return f"{mean:.{digits}f} ± {std:.{digits}f} (n={n})"


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


def _fmt_time(s: float) -> str:
    return f"{s:.0f} s ({s / 60:.1f} min)" if s >= 60 else f"{s:.1f} s"


def _number(x: float | None) -> str:
    return "—" if x is None else f"{x:.4g}"


def _versus_cell(v: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    if "metric" in v and v.get("label") != "measured once":
        return f"`{v['metric']}` {format_mean_std(metrics[v['metric']])}"
    if "metric" in v:
        return f"`{v['metric']}` {_number(v['constant'])} (measured once: a constant)"
    return f"{v['label']} = {_number(v['constant'])} (constant)"


def _interval_cell(rec: Mapping[str, Any]) -> str:
    iv = rec["interval"]
    sign = "+" if rec["direction"] == "higher" else "−"
    if iv is None:
        return "—"
    return f"[{iv[0]:.3g}, {iv[1]:.3g}] vs δ = {rec['margin']:.3g} ({sign})"


def _verdict_cell(rec: Mapping[str, Any]) -> str:
    v = rec["verdict"]
    text = {"held": "**held**", "not held": "**not held**"}.get(v, v)
    return f"{text}: {rec['reason']}" if rec.get("reason") else text


CLAIMS_BEGIN, CLAIMS_END = "<!-- claims table: generated from metrics.json -->", "<!-- end -->"


def claims_table(doc: Mapping[str, Any]) -> str:
    """The gates and claims tables of a ``reprokit.metrics/1`` document, as markdown.

    Columns follow the rule in :mod:`reprokit.claims`: the interval is the 90% Student-t
    interval of the signed per-seed differences (``+``: metric − versus, ``−``: versus −
    metric), compared with the pre-registered margin δ.
    """
    metrics = doc["metrics"]
    lines = [CLAIMS_BEGIN, "", "### Gates (preconditions)", ""]
    lines.append(
        "| Gate | Metric | Ours, mean ± std (n) | Compared with | 90% interval of d | Passed? |"
    )
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for g in doc["gates"]:
        passed = "yes" if g["passed"] else f"**no** ({_verdict_cell(g)})"
        cells = [
            f"{g['id']}: {g['text']}",
            f"`{g['metric']}`",
            format_mean_std(metrics[g["metric"]]),
        ]
        cells += [_versus_cell(g["versus"], metrics), _interval_cell(g), passed]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    label = "CPU" if doc["profile"] == "cpu" else doc["profile"]
    lines += ["", "### Claims", ""]
    lines.append(
        f"| Claim | Metric | Paper (its own setting) | Ours ({label} profile), mean ± std (n) "
        "| Compared with | 90% interval of d | Verdict |"
    )
    lines.append("| --- | --- | --- | --- | --- | --- | --- |")
    for c in doc["claims"]:
        name = f"{c['id']}{' (central)' if c['central'] else ''}: {c['text']}"
        cells = [name, f"`{c['metric']}`", c.get("paper") or "—"]
        cells += [format_mean_std(metrics[c["metric"]]), _versus_cell(c["versus"], metrics)]
        cells += [_interval_cell(c), _verdict_cell(c)]
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    lines += ["", CLAIMS_END]
    return "\n".join(lines)


def console_summary(doc: Mapping[str, Any]) -> str:
    """A few plain lines for the end of a run: each gate and claim with its verdict."""
    w = max((len(r["id"]) for r in [*doc["gates"], *doc["claims"]]), default=4)
    out = []
    for g in doc["gates"]:
        state = "passed" if g["passed"] else "NOT passed"
        out.append(f"  gate  {g['id']:<{w}}  {state:<12} {g['text']}")
    for c in doc["claims"]:
        star = "*" if c["central"] else " "
        out.append(f"  claim {c['id']:<{w}}{star} {c['verdict']:<12} {c['text']}")
    return "\n".join(out)


def write_results(
    path: str | Path,
    doc: Mapping[str, Any],
    title: str,
    figures: Mapping[str, str | Path] | None = None,
    command: str | None = None,
    notes: str | None = None,
    metrics_path: str | Path | None = None,
) -> Path:
    """Write RESULTS.md: the generated gates/claims tables, figures, run facts, notes.

    Args:
        path: the markdown file (usually ``<project>/RESULTS.md``).
        doc: the ``reprokit.metrics/1`` document (``Evidence.to_dict``) the tables come from.
        title: first heading.
        figures: caption -> image path; links are made relative to ``path``'s folder.
        command: the command that produced the numbers.
        notes: free markdown appended under "Notes" (it may interpret, not overrule, a verdict).
        metrics_path: the metrics.json the numbers come from (linked).
    """
    path = Path(path)
    base = path.parent.resolve()

    def rel(p: str | Path) -> str:
        return Path(os.path.relpath(Path(p).resolve(), base)).as_posix()

    m = machine_info()
    scope, outputs = project_code_scope(base)
    git = git_info(base, scope=scope, exclude=outputs)
    profile, seeds = doc["profile"], doc["seeds"]
    lines = [f"# {title}", ""]
    lines.append(
        f"Numbers in the *Ours* column come from the `{profile}` profile (small scale, "
        "run by the command below) and are **not** comparable with the paper's tables; the "
        "*Paper* column quotes the paper in its own setting. Verdicts follow the one rule of "
        "`reprokit.claims`: paired per-seed differences d (signed so that d > 0 favours the "
        "claim), 90% Student-t interval, **held** if it lies above the margin δ, **not held** if "
        "below, inconclusive otherwise; untestable when a gate did not pass."
    )
    lines += ["", "## Gates and claims", "", claims_table(doc)]
    if figures:
        lines += ["", "## Figures", ""]
        for caption, fig in figures.items():
            lines += [f"**{caption}**", "", f"![{caption}]({rel(fig)})", ""]
    lines += ["", "## Run", ""]
    if command:
        lines.append(f"- Command: `{command}`")
    lines.append(f"- Profile: `{profile}`")
    lines.append(f"- Seeds: {', '.join(str(s) for s in seeds)} (n={len(seeds)})")
    if doc.get("wall_time_s") is not None:
        lines.append(f"- Wall time: {_fmt_time(float(doc['wall_time_s']))}")
    if metrics_path is not None:
        lines.append(f"- Metrics: [`{rel(metrics_path)}`]({rel(metrics_path)})")
    cores = f"{m['cpu_available']} available of {m['cpu_count']}"
    lines.append(f"- Machine: {m['cpu']} ({cores} cores), {m['platform']}")
    lines.append(f"- Python {m['python']}, OMP_NUM_THREADS={m['OMP_NUM_THREADS']}")
    if m["gpus"]:
        lines.append(f"- GPUs: {', '.join(m['gpus'])}")
    if git["commit"]:
        dirty = " (uncommitted changes in this project or shared/)" if git["dirty"] else ""
        tree = f", code tree {git['code_tree']}" if git.get("code_tree") else ""
        lines.append(f"- Code: git {git['commit'][:12]}{tree}{dirty}")
    lines.append(f"- Written: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    if notes:
        lines += ["", "## Notes", "", notes.strip()]
    _atomic_write_text(path, "\n".join(lines).rstrip() + "\n")
    return path


# -- further committed documents as marked sections of RESULTS.md ------------------------------
def section_markers(tag: str) -> tuple[str, str]:
    """The comment lines that open and close the ``tag`` section of a RESULTS.md."""
    return f"<!-- {tag}:start -->", f"<!-- {tag}:end -->"


def marked_section(results_md: str | Path, tag: str) -> str | None:
    """The ``tag`` section of ``results_md`` (markers included), or None if it has none.

    A project with a second committed profile (e.g. ``cpu-long`` writing
    ``results/cpu/long_metrics.json``) keeps that profile's report as such a section, so the
    cpu run that rewrites RESULTS.md does not lose it (see :func:`keep_sections`).
    """
    path = Path(results_md)
    start, end = section_markers(tag)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if start not in text or end not in text:
        return None
    return start + text.split(start, 1)[1].split(end, 1)[0] + end


def keep_sections(results_md: str | Path, sections: list[str | None]) -> None:
    """Append sections saved by :func:`marked_section` after ``results_md`` was rewritten."""
    path = Path(results_md)
    kept = [s for s in sections if s is not None]
    if kept:
        text = path.read_text(encoding="utf-8").rstrip()
        _atomic_write_text(path, text + "".join(f"\n\n{s}" for s in kept) + "\n")


def merge_section(results_md: str | Path, section_md: str | Path, heading: str, tag: str) -> None:
    """Move the report ``section_md`` into ``results_md`` as the marked ``## heading`` section.

    ``section_md`` is a file written by :func:`write_results` next to ``results_md`` (so its
    links resolve from there); its title line is dropped and its ``##`` headings become
    ``###``. An earlier ``tag`` section is replaced; ``section_md`` is removed.
    """
    path, section = Path(results_md), Path(section_md)
    start, end = section_markers(tag)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if start in text and end in text:
        head, tail = text.split(start, 1)
        text = head.rstrip() + "\n" + tail.split(end, 1)[1].lstrip("\n")
    body = section.read_text(encoding="utf-8").split("\n", 1)[1].replace("\n## ", "\n### ")
    text = text.rstrip() + f"\n\n{start}\n## {heading}\n{body.rstrip()}\n{end}\n"
    _atomic_write_text(path, text)
    section.unlink()


def retable(results_md: str | Path, metrics_json: str | Path) -> bool:
    """Rewrite the generated claims table of ``results_md`` from ``metrics_json`` (no rerun).

    The table is a pure function of the metrics document, so a change in how it is formatted
    is applied to committed reports this way. Returns whether the file changed.
    """
    path = Path(results_md)
    text = path.read_text(encoding="utf-8")
    start, end = text.find(CLAIMS_BEGIN), text.find(CLAIMS_END)
    if start < 0 or end < 0:
        raise ValueError(f"{path}: no generated claims table (markers not found)")
    doc = json.loads(Path(metrics_json).read_text(encoding="utf-8"))
    new = text[:start] + claims_table(doc) + text[end + len(CLAIMS_END) :]
    if new != text:
        _atomic_write_text(path, new)
    return new != text


if __name__ == "__main__":  # python -m reprokit.report retable RESULTS.md results/cpu/metrics.json
    import sys

    if len(sys.argv) != 4 or sys.argv[1] != "retable":
        print("usage: python -m reprokit.report retable RESULTS.md METRICS.json", file=sys.stderr)
        raise SystemExit(2)
    print("rewritten" if retable(sys.argv[2], sys.argv[3]) else "unchanged")
