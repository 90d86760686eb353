"""The further committed profiles (``cpu-pinwheel``, ``cpu-text``, ``cpu-joint``,
``cpu-joint-pinwheel``): each writes its own ``results/cpu/<tag>_metrics.json`` and a marked
``<tag>`` section of RESULTS.md (reprokit's ``merge_section``); the cpu run keeps those sections
(``SECTION_TAGS``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reprokit.claims import Evidence
from reprokit.lifecycle import ReportTarget, Session, footer, report_target
from reprokit.report import merge_section, write_results

SECTION_TAGS = ("prior_pinwheel", "text", "joint", "pinwheel")


def side_target(
    committed: str, profile: str, cfg: Any, profiles: Mapping, anchor: str, session: Session
) -> ReportTarget:
    """The unmodified ``committed`` profile writes the committed results/cpu/ (its own
    ``<tag>_*`` files and a section of RESULTS.md); any other run its own folder."""
    if profile == committed:
        return report_target(
            "ldebm", "cpu", cfg, {"cpu": profiles[profile]}, anchor, session, out=cfg.out
        )
    return report_target("ldebm", profile, cfg, profiles, anchor, session, out=cfg.out)


def write_side_report(
    target: ReportTarget,
    ev: Evidence,
    info: dict,
    tag: str,
    heading: str,
    command: Callable[[bool], str],
    notes: Callable[[dict], str],
    session: Session,
) -> None:
    """``<tag>_metrics.json`` + the RESULTS.md section (committed), or metrics.json + RESULTS.md
    in the run's own folder; then the footer. ``command(committed)`` names the command line."""
    wall, committed = session.wall_time_s, target.committed
    name = f"{tag}_metrics.json" if committed else "metrics.json"
    metrics_path = ev.write(target.dir / name, wall, info)
    doc = ev.to_dict(wall, info)
    report = target.results_md.parent / f".{tag}_section.md" if committed else target.results_md
    write_results(
        report,
        doc,
        title=f"ldebm: {session.profile} profile",
        command=command(committed),
        notes=notes(doc),
        metrics_path=metrics_path,
    )
    if committed:
        merge_section(target.results_md, report, heading, tag)
        report = target.results_md
    footer(session, doc, [report, metrics_path], why=target.why)
