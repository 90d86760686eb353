"""The interpretation paragraph of RESULTS.md, generated from the document (never overrules it)."""

from __future__ import annotations

from sketchgame.game import SETTINGS


def _mean(doc: dict, name: str) -> float | None:
    m = doc["metrics"].get(name, {})
    return m.get("mean", m.get("value"))


def results_notes(doc: dict) -> str:
    """Gate numbers and the central verdict in words."""
    central = next(c for c in doc["claims"] if c.get("central"))
    failed = [g["id"] for g in doc["gates"] if not g["passed"]]
    parts = [f"Central claim {central['id']}: **{central['verdict']}**."]
    if failed:
        parts.append(
            "Gates not passed: " + ", ".join(failed) + " (claims behind them are untestable)."
        )

    def fmt(name: str) -> str:
        v = _mean(doc, name)
        return "n/a" if v is None else f"{v:.3g}"

    parts.append(
        "Means over seeds: game length seen / unseen instances / unseen categories (complete) "
        f"{fmt('seen_steps')} / {fmt('unseen_inst_steps')} / {fmt('unseen_cat_steps')}; "
        f"sender-fixed seen / unseen categories {fmt('senderfixed_seen_steps')} / "
        f"{fmt('senderfixed_unseen_cat_steps')}; drift seen / unseen {fmt('drift_seen')} / "
        f"{fmt('drift_unseen')}; semanticity r complete / sender-fixed / lookup "
        f"{fmt('semanticity_r')} / {fmt('semanticity_r_senderfixed')} / "
        f"{fmt('semanticity_r_lookup')} "
        f"(Mantel p complete {fmt('complete_semanticity_p')})."
    )
    settings = [s for s in SETTINGS if _mean(doc, f"{s}_acc") is not None]
    parts.append(
        "Per setting, seen referents (accuracy / game length / training seconds per game batch): "
        + "; ".join(
            f"{s} {fmt(f'{s}_acc')} / {fmt(f'{s}_steps')} / {fmt(f'{s}_seconds_per_game')}"
            for s in settings
        )
        + "."
    )
    steps = [fmt(f"senderfixed_forced_step{t}") for t in range(1, 100)]
    steps = steps[: steps.index("n/a")] if "n/a" in steps else steps
    parts.append(
        "Sender-fixed accuracy with the guess forced at step 1, 2, …: " + " / ".join(steps) + "."
    )
    parts.append(
        "CPU-profile numbers on procedural referents; not comparable with the paper's figures."
    )
    return " ".join(parts)
