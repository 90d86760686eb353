"""One rule for every verdict: claims, gates, and the metrics schema they are written in.

A project declares its evidence next to its experiment code::

    GATES = [
        Gate("G1", "DRC reconstructs better than painting each image its mean colour",
             metric="recon_l1/drc", versus="recon_l1/mean_colour", direction="lower"),
    ]
    CLAIMS = [
        Claim("C1", "DRC segments better than k-means", metric="iou/drc", versus="iou/kmeans",
              direction="higher", central=True, gates=("G1",), paper="0.71 vs 0.32 (Birds)"),
        Claim("C2", "DRC is above chance", metric="iou/drc", versus=Constant(0.25, "chance")),
    ]

and, after the run, hands the per-seed measurements to :class:`Evidence`::

    ev = Evidence("drc", "cpu", seeds=[0, 1, 2])
    ev.add("iou/drc", [0.41, 0.39, 0.44])        # one value per seed, in the order of `seeds`
    ev.add("iou/kmeans", 0.305)                    # a deterministic number computed once
    ev.judge(GATES, CLAIMS)
    ev.write(out / "metrics.json", wall_time_s=412.0)

**The verdict rule** (:func:`verdict`), the same for gates and claims and not configurable:
per-seed differences ``d_i = ±(a_i − b_i)``, signed so that a positive ``d_i`` favours the claim
(against a constant ``c``: ``d_i = ±(a_i − c)``); ``n ≥ 3``; mean ``d̄``, sample std ``s``, the
two-sided 90% Student-t interval ``[L, U] = d̄ ∓ t_{0.95, n−1} · s / √n``. Then **held** when
``L > δ`` (the pre-registered margin), **not held** when ``U < δ``, **inconclusive** otherwise
(also when ``n < 3``: more seeds would decide). A claim is **untestable** when one of its gates
did not pass (a gate passes only when its own verdict is *held*) or a value it needs is missing.
A versus metric measured once (``{"value": x}``) enters as a constant and the report says so.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import stats

from reprokit.atomic import atomic_path
from reprokit.errors import UserError

__all__ = [
    "HELD",
    "INCONCLUSIVE",
    "MIN_SEEDS",
    "NOT_HELD",
    "SCHEMA",
    "UNTESTABLE",
    "Claim",
    "Constant",
    "Evidence",
    "EvidenceError",
    "Gate",
    "interval",
    "validate",
    "verdict",
]

SCHEMA = "reprokit.metrics/1"
HELD, NOT_HELD, INCONCLUSIVE, UNTESTABLE = "held", "not held", "inconclusive", "untestable"
MIN_SEEDS = 3
CONFIDENCE = 0.90  # two-sided; the rule, not a per-project choice
Direction = Literal["higher", "lower"]

# An absolute path with at least two components, a home path, or a Windows drive path.
_MACHINE_PATH = re.compile(r"(^|[\s\"'(=:,])(/[\w.+-]+){2,}|(^|\s)~/|[A-Za-z]:\\")


class EvidenceError(UserError):
    """A claim, gate or metric that cannot be judged or written as declared (one line)."""


@dataclasses.dataclass(frozen=True)
class Constant:
    """A fixed comparison point: chance level, a threshold, a number from the literature.

    Attributes:
        value: the number the metric is compared with.
        label: what it is, in words ("chance", "10× threshold (paper Fig. 3)").
    """

    value: float
    label: str


@dataclasses.dataclass(frozen=True)
class Gate:
    """A precondition judged by the same rule; it passes only when its verdict is *held*.

    Attributes:
        id: short identifier ("G1"), unique among the project's gates and claims.
        text: the precondition in words.
        metric: the metric name whose per-seed values are tested.
        versus: another metric's name (paired by seed, or a constant if measured once) or a
            :class:`Constant`.
        direction: ``"higher"`` if a larger metric favours the gate, ``"lower"`` otherwise.
        margin: the pre-registered margin δ ≥ 0 the difference must exceed.
    """

    id: str
    text: str
    metric: str
    versus: str | Constant
    direction: Direction = "higher"
    margin: float = 0.0

    def __post_init__(self) -> None:
        _check_spec(self)


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claim of the paper, tested at this scale.

    Attributes:
        id: short identifier ("C1").
        text: the claim in words.
        metric: the metric whose per-seed values carry the claim.
        versus: another metric's name (paired by seed) or a :class:`Constant`.
        direction: ``"higher"`` if a larger metric favours the claim, ``"lower"`` otherwise.
        margin: the pre-registered margin δ ≥ 0.
        central: whether this is the project's central claim (exactly one per project).
        gates: ids of the gates that must pass before the claim is judged.
        paper: the paper's number in the paper's own setting ("65 vs 31 (D4RL umaze)").
    """

    id: str
    text: str
    metric: str
    versus: str | Constant
    direction: Direction = "higher"
    margin: float = 0.0
    central: bool = False
    gates: tuple[str, ...] = ()
    paper: str = ""

    def __post_init__(self) -> None:
        _check_spec(self)
        if isinstance(self.gates, str):
            raise EvidenceError(f"claim {self.id}: gates must be a tuple of ids, not a string")


def _check_spec(spec: Gate | Claim) -> None:
    kind = type(spec).__name__.lower()
    if not spec.id or not spec.text or not spec.metric:
        raise EvidenceError(f"{kind} {spec.id!r}: id, text and metric must be non-empty")
    if spec.direction not in ("higher", "lower"):
        raise EvidenceError(f"{kind} {spec.id}: direction must be 'higher' or 'lower'")
    if not (math.isfinite(spec.margin) and spec.margin >= 0):
        raise EvidenceError(f"{kind} {spec.id}: margin must be a finite number >= 0")
    if isinstance(spec.versus, Constant) and not math.isfinite(spec.versus.value):
        raise EvidenceError(f"{kind} {spec.id}: constant {spec.versus.label!r} is not finite")


def interval(differences: Sequence[float]) -> tuple[float, float] | None:
    """The two-sided 90% Student-t interval of the mean difference (``None`` for n < 2)."""
    d = np.asarray(differences, dtype=np.float64)
    n = d.size
    if n < 2:
        return None
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * float(d.std(ddof=1)) / math.sqrt(n)
    return float(d.mean()) - half, float(d.mean()) + half


def verdict(differences: Sequence[float], margin: float = 0.0) -> str:
    """*held* / *not held* / *inconclusive* from signed per-seed differences (module docstring)."""
    if len(differences) < MIN_SEEDS:
        return INCONCLUSIVE
    lo, hi = interval(differences)  # type: ignore[misc]
    if lo > margin:
        return HELD
    if hi < margin:
        return NOT_HELD
    return INCONCLUSIVE


def _finite(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _summary(values: Sequence[float | None]) -> dict[str, Any]:
    """``{values, mean, std, n}``; non-finite values become ``null`` and are not counted."""
    vals = [_finite(v) for v in values]
    ok = np.asarray([v for v in vals if v is not None], dtype=np.float64)
    n = int(ok.size)
    return {
        "values": vals,
        "mean": float(ok.mean()) if n else None,
        "std": (float(ok.std(ddof=1)) if n > 1 else 0.0) if n else None,
        "n": n,
    }


class Evidence:
    """The measurements of one ``reproduce`` run and the verdicts judged from them.

    Args:
        project: the project's import name.
        profile: the profile that produced the numbers.
        seeds: the seeds, in the order per-seed values are given.
    """

    def __init__(self, project: str, profile: str, seeds: Sequence[int]) -> None:
        if not seeds:
            raise EvidenceError("evidence needs at least one seed")
        self.project, self.profile = project, profile
        self.seeds = [int(s) for s in seeds]
        self.metrics: dict[str, dict[str, Any]] = {}
        self.gates: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []

    # -- measurements -------------------------------------------------------------------------
    def add(
        self,
        name: str,
        values: float | Sequence[float | None] | None,
        *,
        seeds: Sequence[int] | None = None,
        missing: str | None = None,
    ) -> None:
        """Record a metric: a sequence is one value per seed (``seeds`` if it covers a subset),
        a scalar is a number measured once; ``None``/NaN values need ``missing`` (why)."""
        if name in self.metrics:
            raise EvidenceError(f"metric {name!r} recorded twice")
        if values is None or np.ndim(values) == 0:
            v = _finite(values)
            if v is None and not missing:
                raise EvidenceError(f"metric {name!r} is missing/non-finite; say why (missing=)")
            entry: dict[str, Any] = {"value": v}
        else:
            vals = np.asarray(values, dtype=np.float64).ravel().tolist()  # None -> NaN
            use = list(seeds) if seeds is not None else self.seeds
            if len(vals) != len(use):
                raise EvidenceError(
                    f"metric {name!r} has {len(vals)} values for {len(use)} seeds {use}"
                )
            entry = _summary(vals)
            if seeds is not None and list(seeds) != self.seeds:
                entry["seeds"] = [int(s) for s in seeds]
            if entry["n"] < len(vals) and not missing:
                raise EvidenceError(f"metric {name!r} has missing/non-finite values; say why")
        if missing:
            entry["missing"] = missing
        self.metrics[name] = entry

    def values(self, name: str) -> list[float | None]:
        """The per-seed values of a metric (a number measured once: one value)."""
        m = self._metric(name)
        return list(m["values"]) if "values" in m else [m["value"]]

    def _metric(self, name: str) -> dict[str, Any]:
        if name not in self.metrics:
            raise EvidenceError(
                f"no metric {name!r} recorded; recorded: {', '.join(sorted(self.metrics))}"
            )
        return self.metrics[name]

    def mark_unmeasured(
        self,
        gates: Sequence[Gate],
        claims: Sequence[Claim],
        why: str = "not measured in this run's config",
    ) -> list[str]:
        """Record each metric a gate or claim reads (its ``metric``, then its metric ``versus``)
        that this run did not measure as a per-seed list of nulls with reason ``why``, so the
        statements that need it judge *untestable* instead of raising; returns the names marked."""
        specs = [*gates, *claims]
        names = [s.metric for s in specs] + [s.versus for s in specs if isinstance(s.versus, str)]
        marked = [n for n in dict.fromkeys(names) if n not in self.metrics]
        for name in marked:
            self.add(name, [None] * len(self.seeds), missing=why)
        return marked

    # -- judging ------------------------------------------------------------------------------
    def judge(self, gates: Sequence[Gate], claims: Sequence[Claim]) -> None:
        """Apply the rule to every gate, then to every claim (untestable behind a failed gate)."""
        ids = [s.id for s in [*gates, *claims]]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise EvidenceError(f"duplicate gate/claim ids: {', '.join(dup)}")
        if sum(c.central for c in claims) != 1:
            raise EvidenceError(
                f"exactly one claim must be central, got {sum(c.central for c in claims)}"
            )
        known = {g.id for g in gates}
        for c in claims:
            unknown = sorted(set(c.gates) - known)
            if unknown:
                raise EvidenceError(f"claim {c.id} depends on undeclared gates {unknown}")
        self.gates = [self._judge(g) for g in gates]
        by_id = {g["id"]: g for g in self.gates}
        self.claims = [self._judge(c, by_id) for c in claims]

    def _judge(self, spec: Gate | Claim, gates: Mapping[str, dict] | None = None) -> dict:
        record: dict[str, Any] = {
            "id": spec.id,
            "text": spec.text,
            "metric": spec.metric,
            "versus": _versus_record(spec.versus, self),
            "direction": spec.direction,
            "margin": float(spec.margin),
        }
        if isinstance(spec, Claim):
            record |= {"central": spec.central, "gates": list(spec.gates), "paper": spec.paper}
        d, why = self._differences(spec)
        record["differences"] = d
        iv = interval(d) if d is not None else None
        record["interval"] = list(iv) if iv is not None else None
        failed = [
            g for g in (spec.gates if isinstance(spec, Claim) else ()) if not gates[g]["passed"]
        ]
        if failed:
            record["verdict"] = UNTESTABLE
            record["reason"] = "; ".join(_gate_failure(gates[g]) for g in failed)
        elif d is None:
            record["verdict"] = UNTESTABLE
            record["reason"] = why
        else:
            record["verdict"] = verdict(d, spec.margin)
            if len(d) < MIN_SEEDS:
                record["reason"] = f"n = {len(d)} < {MIN_SEEDS} seeds"
        if isinstance(spec, Gate):
            record["passed"] = record["verdict"] == HELD
        return record

    def _differences(self, spec: Gate | Claim) -> tuple[list[float] | None, str]:
        """Signed per-seed differences (positive favours the claim), or ``None`` and why not."""
        a_entry = self._metric(spec.metric)
        if "value" in a_entry:
            raise EvidenceError(
                f"{spec.id}: metric {spec.metric!r} is one number; judging needs per-seed values"
            )
        a = a_entry["values"]
        if isinstance(spec.versus, Constant):
            b: list[float | None] = [spec.versus.value] * len(a)
        else:
            b_entry = self._metric(spec.versus)
            if "value" in b_entry:
                b = [b_entry["value"]] * len(a)
            else:
                if b_entry.get("seeds", self.seeds) != a_entry.get("seeds", self.seeds):
                    raise EvidenceError(
                        f"{spec.id}: {spec.metric!r} and {spec.versus!r} cover different seeds"
                    )
                b = b_entry["values"]
        if any(x is None for x in [*a, *b]):
            sides = [(spec.metric, a)]
            if not isinstance(spec.versus, Constant):
                sides.append((spec.versus, b))
            why = "; ".join(
                f"{n}: {self.metrics[n].get('missing', 'missing values')}"
                for n, values in sides
                if any(x is None for x in values)
            )
            return None, f"missing values ({why})"
        sign = 1.0 if spec.direction == "higher" else -1.0
        return [sign * (float(x) - float(y)) for x, y in zip(a, b, strict=True)], ""

    @property
    def central(self) -> dict[str, Any]:
        """The judged central claim."""
        return next(c for c in self.claims if c["central"])

    # -- writing ------------------------------------------------------------------------------
    def to_dict(self, wall_time_s: float | None, info: Mapping[str, Any] | None = None) -> dict:
        """The ``reprokit.metrics/1`` document (see :func:`validate`)."""
        doc = {
            "schema": SCHEMA,
            "project": self.project,
            "profile": self.profile,
            "seeds": self.seeds,
            "wall_time_s": _finite(wall_time_s),
            "metrics": self.metrics,
            "gates": self.gates,
            "claims": self.claims,
        }
        if info:
            from reprokit.report import jsonable

            doc["info"] = _strict(jsonable(info))
        return doc

    def write(
        self, path: str | Path, wall_time_s: float | None, info: Mapping[str, Any] | None = None
    ) -> Path:
        """Validate and write ``metrics.json`` atomically (strict JSON, no machine paths)."""
        if not self.claims:
            raise EvidenceError("judge() the claims before writing the evidence")
        doc = self.to_dict(wall_time_s, info)
        problems = validate(doc, committed=False)
        if problems:
            raise EvidenceError(f"metrics document is invalid: {problems[0]}")
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        return path


def _strict(obj: Any) -> Any:
    """Non-finite floats become ``None`` (strict JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_strict(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _versus_record(versus: str | Constant, ev: Evidence) -> dict[str, Any]:
    if isinstance(versus, Constant):
        return {"constant": float(versus.value), "label": versus.label}
    entry = ev._metric(versus)
    if "value" in entry:
        return {"metric": versus, "constant": entry["value"], "label": "measured once"}
    return {"metric": versus}


def _gate_failure(g: Mapping[str, Any]) -> str:
    iv = g.get("interval")
    where = f", interval [{iv[0]:.4g}, {iv[1]:.4g}] vs margin {g['margin']:.4g}" if iv else ""
    extra = f" ({g['reason']})" if g.get("reason") else ""
    return f"gate {g['id']} not passed: {g['verdict']}{where}{extra}"


# -- validation (also used by the repo's contract tests) ---------------------------------------
_TOP = ("schema", "project", "profile", "seeds", "wall_time_s", "metrics", "gates", "claims")


def _check_record(rec: Any, kind: str, gates: Mapping[str, Any]) -> list[str]:
    if not isinstance(rec, dict):
        return [f"a {kind} is not an object"]
    keys = ["id", "text", "metric", "versus", "direction", "margin", "differences", "interval"]
    keys += ["verdict"] + (["central", "gates"] if kind == "claim" else ["passed"])
    missing = [k for k in keys if k not in rec]
    if missing:
        return [f"{kind} {rec.get('id')!r} lacks {', '.join(missing)}"]
    rid, d = rec["id"], rec["differences"]
    problems = []
    expect_iv = interval(d) if d else None
    if (expect_iv is None) != (rec["interval"] is None) or (
        expect_iv is not None and not np.allclose(expect_iv, rec["interval"], rtol=1e-9, atol=1e-12)
    ):
        problems.append(
            f"{kind} {rid}: interval {rec['interval']} does not follow from its differences"
        )
    failed = [g for g in rec.get("gates", []) if not gates.get(g, {}).get("passed", False)]
    if kind == "claim" and any(g not in gates for g in rec["gates"]):
        problems.append(f"claim {rid}: depends on undeclared gates")
    expected = UNTESTABLE if failed or d is None else verdict(d, rec["margin"])
    if rec["verdict"] != expected:
        problems.append(f"{kind} {rid}: verdict {rec['verdict']!r}, the rule gives {expected!r}")
    if kind == "gate" and rec["passed"] != (rec["verdict"] == HELD):
        problems.append(f"gate {rid}: 'passed' disagrees with its verdict")
    return problems


def _machine_paths(obj: Any, where: str = "") -> list[str]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _machine_paths(v, f"{where}.{k}")]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _machine_paths(v, f"{where}[{i}]")]
    if isinstance(obj, str) and _MACHINE_PATH.search(obj):
        return [f"machine-specific path at {where or '.'}: {obj!r}"]
    return []


def validate(doc: Any, committed: bool = True) -> list[str]:
    """Every way ``doc`` departs from ``reprokit.metrics/1`` (empty when valid).

    ``committed=False`` (what :meth:`Evidence.write` checks) drops the one rule that belongs to
    committed evidence only: a central claim measured on at least three seeds (a one-seed GPU
    run of the paper profile still writes its document; its central verdict is inconclusive).

    Checks the layout, that every metric is ``{values, mean, std, n}`` or ``{value}`` with its
    summary recomputing from the values, that every interval and verdict recomputes from its
    differences by the rule, exactly one central claim with n ≥ 3 that depends on a gate, no
    non-finite number and no machine-specific path.
    """
    if not isinstance(doc, dict):
        return ["metrics document is not a JSON object"]
    problems = [f"lacks top-level key {k!r}" for k in _TOP if k not in doc]
    if problems:
        return problems
    if doc["schema"] != SCHEMA:
        problems.append(f"schema is {doc['schema']!r}, expected {SCHEMA!r}")
    try:
        json.dumps(doc, allow_nan=False)
    except ValueError:
        problems.append("holds NaN or infinity (strict JSON: write null and say why)")
    for name, m in doc["metrics"].items():
        if not isinstance(m, dict) or not (
            {"values", "mean", "std", "n"} <= m.keys() or "value" in m
        ):
            problems.append(f"metric {name!r} is neither {{values, mean, std, n}} nor {{value}}")
            continue
        if "values" in m:
            s = _summary(m["values"])
            same = s["n"] == m["n"] and all(
                (x is None and y is None)
                or (
                    x is not None
                    and y is not None
                    and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
                )
                for x, y in ((s["mean"], m["mean"]), (s["std"], m["std"]))
            )
            if not same:
                problems.append(f"metric {name!r}: mean/std/n do not follow from its values")
            if s["n"] < len(m["values"]) and not m.get("missing"):
                problems.append(f"metric {name!r}: null values without a 'missing' reason")
        elif m["value"] is None and not m.get("missing"):
            problems.append(f"metric {name!r}: null value without a 'missing' reason")
    gates = {g.get("id"): g for g in doc["gates"] if isinstance(g, dict)}
    for g in doc["gates"]:
        problems += _check_record(g, "gate", {})
    for c in doc["claims"]:
        problems += _check_record(c, "claim", gates)
    central = [c for c in doc["claims"] if isinstance(c, dict) and c.get("central")]
    if len(central) != 1:
        problems.append(f"{len(central)} central claims, expected exactly one")
    else:
        c = central[0]
        metric = doc["metrics"].get(c.get("metric"), {})
        if committed and len(metric.get("values", [])) < MIN_SEEDS:
            problems.append(f"central claim {c['id']} is not measured on >= {MIN_SEEDS} seeds")
        if not c.get("gates"):
            problems.append(f"central claim {c['id']} depends on no gate")
    problems += _machine_paths(doc)
    return problems
