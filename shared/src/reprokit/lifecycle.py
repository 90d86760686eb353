"""One run lifecycle for every ``reproduce``: identity, resume, clean stops, one-line errors.

    def run(argv: list[str], fresh: bool) -> None:
        profile, cfg = parse(PROFILES, argv, prog="drc.reproduce")
        preflight(cfg)                                   # every check before the first step
        with Session("drc", profile, cfg, fresh=fresh) as session:
            header(session, seeds=cfg.seeds, methods=cfg.methods, expected="~11 min")
            for seed in cfg.seeds:
                res = session.unit(f"drc-seed{seed}", lambda ud: train(cfg, seed, ud, session))
            ...
            target = report_target("drc", profile, cfg, PROFILES, anchor=__file__, session=session)
            ... write metrics.json / RESULTS.md into target.dir / target.results_md ...
            footer(session, doc, [target.results_md, target.dir / "metrics.json"])

    if __name__ == "__main__":
        entry("drc.reproduce", run)

**Identity.** A session is ``<runs root>/<project>/<profile>/<config hash>/`` (runs root:
``$REPROKIT_RUNS`` or ``./runs``); the hash is the SHA-256 of the resolved config's canonical
JSON, so rerunning the same command finds the same folder. Each *unit* (one method × seed)
lives in ``units/<name>/``; a finished unit's result is stored there and is loaded, not
recomputed, on a rerun. An interrupted unit resumes from the checkpoints its training loop wrote
into its folder (``Checkpointer(unit_dir / "checkpoints", config_hash=session.config_hash)``).
``--fresh`` (taken off the command line by :func:`entry`) deletes the session folder first.

**Clean stops.** :func:`entry` turns SIGTERM and SIGINT into a request; training loops call
``session.boundary(where, save)`` at step boundaries: when a stop was requested it calls
``save()`` (write a checkpoint), marks the session *interrupted* and raises :class:`Interrupted`;
:func:`entry` prints one line saying how to resume and exits 143 (SIGTERM) or 130 (SIGINT).
A second Ctrl-C stops at once. A :class:`~reprokit.errors.DivergenceError` marks the session
*diverged* and exits 1 with one line; the last good checkpoint stays where it was.

**Errors.** Every :class:`~reprokit.errors.UserError` (config, data, weights, evidence, device)
and :class:`~reprokit.errors.CheckpointError` becomes ``prog: error: <one line>`` and exit 2;
an unexpected exception keeps its traceback (exit 1).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import shutil
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from reprokit.atomic import atomic_path
from reprokit.config import to_dict
from reprokit.errors import CheckpointError, DivergenceError, UserError
from reprokit.report import format_mean_std, jsonable

__all__ = [
    "Interrupted",
    "ReportTarget",
    "Session",
    "boundary",
    "check_device",
    "check_file",
    "config_diff",
    "config_hash",
    "entry",
    "footer",
    "header",
    "load_result",
    "quiet_known_warnings",
    "report_target",
    "save_result",
    "stop_requested",
]

T = TypeVar("T")
EXIT_USER, EXIT_RUNTIME, EXIT_SIGINT, EXIT_SIGTERM = 2, 1, 130, 143
# Config keys that say where output goes, not what is computed: not part of a run's identity.
NON_IDENTITY_KEYS = ("out",)

# Third-party warnings that mean nothing for a user of this repository (filtered by entry).
KNOWN_WARNINGS = (
    r".*pkg_resources is deprecated.*",
    r".*Gym has been unmaintained.*",
    r".*The environment .* is out of date.*",
    r".*This version of jax was built.*",
    r".*os.fork\(\) was called.*",
    r".*TensorFlow installation not found.*",
    r".*env\.\w+ to get variables from other wrappers is deprecated.*",
)


class Interrupted(Exception):
    """A stop request was honoured at a step boundary (a checkpoint was written)."""

    def __init__(self, where: str, signum: int) -> None:
        super().__init__(where)
        self.where, self.signum = where, signum


# -- stop requests ------------------------------------------------------------------------------
_stop: dict[str, int | None] = {"signum": None}


def _on_signal(signum: int, frame: Any) -> None:
    if _stop["signum"] is not None and signum == signal.SIGINT:
        raise KeyboardInterrupt  # second Ctrl-C: stop now
    _stop["signum"] = signum
    name = signal.Signals(signum).name
    print(f"\n{name} received: stopping at the next step boundary", file=sys.stderr, flush=True)


def stop_requested() -> bool:
    """True once SIGTERM/SIGINT arrived under :func:`entry` (loops check it at boundaries)."""
    return _stop["signum"] is not None


def boundary(where: str, save: Callable[[], Any] | None = None) -> None:
    """A step boundary outside a :class:`Session` (e.g. a torchrun training entry): when a stop
    was requested, ``save()`` and raise :class:`Interrupted` carrying the signal received."""
    if not stop_requested():
        return
    if save is not None:
        save()
    raise Interrupted(where, int(_stop["signum"] or signal.SIGTERM))


@contextlib.contextmanager
def _stop_handlers() -> Any:
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    _stop["signum"] = None
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        _stop["signum"] = None


# -- identity -----------------------------------------------------------------------------------
def _identity(cfg: Any) -> dict[str, Any]:
    d = to_dict(cfg) if dataclasses.is_dataclass(cfg) else dict(jsonable(cfg))
    return {k: v for k, v in d.items() if k not in NON_IDENTITY_KEYS}


def config_hash(cfg: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of the resolved config (output paths excluded)."""
    text = json.dumps(_identity(cfg), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out |= _flat(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_diff(a: Mapping[str, Any], b: Mapping[str, Any], limit: int = 3) -> str:
    """``"train.iters 300 vs 100, model.width 64 vs 32"``: the first keys where configs differ."""
    fa, fb = _flat(a), _flat(b)
    keys = sorted(
        k for k in fa.keys() | fb.keys() if fa.get(k, "<absent>") != fb.get(k, "<absent>")
    )
    shown = [f"{k} {fa.get(k, '<absent>')!r} vs {fb.get(k, '<absent>')!r}" for k in keys[:limit]]
    more = f" (+{len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(shown) + more if keys else "nothing"


# -- unit results -------------------------------------------------------------------------------
def save_result(folder: str | Path, result: Any) -> Path:
    """Store a unit's result: JSON for numbers/strings/lists/dicts, ``.npz`` for numpy arrays.

    Floats round-trip exactly (JSON writes ``repr``), so a resumed run's report equals an
    uninterrupted one's. Non-finite floats are stored as strings and restored.
    """
    folder = Path(folder)
    arrays: dict[str, np.ndarray] = {}

    def enc(x: Any) -> Any:
        if isinstance(x, np.ndarray) and x.dtype != object:
            key = f"a{len(arrays)}"
            arrays[key] = x
            return {"__array__": key}
        if isinstance(x, Mapping):
            return {str(k): enc(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [enc(v) for v in x]
        if isinstance(x, float | np.floating) and not np.isfinite(x):
            return {"__float__": str(float(x))}
        if isinstance(x, np.generic):
            return x.item()
        if hasattr(x, "__array__") and not isinstance(x, str | bytes):
            return enc(np.asarray(x))
        return x

    doc = enc(result)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "arrays.npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    with atomic_path(folder / "result.json") as tmp:  # written last: its presence = finished
        tmp.write_text(json.dumps(doc), encoding="utf-8")
    return folder / "result.json"


def load_result(folder: str | Path) -> Any:
    """Inverse of :func:`save_result`; :class:`CheckpointError` when unreadable."""
    folder = Path(folder)
    try:
        doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        with np.load(folder / "arrays.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise CheckpointError(
            f"stored unit result in {folder} is unreadable ({e}); rerun with --fresh"
        ) from None

    def dec(x: Any) -> Any:
        if isinstance(x, dict) and set(x) == {"__array__"}:
            return arrays[x["__array__"]]
        if isinstance(x, dict) and set(x) == {"__float__"}:
            return float(x["__float__"])
        if isinstance(x, dict):
            return {k: dec(v) for k, v in x.items()}
        if isinstance(x, list):
            return [dec(v) for v in x]
        return x

    return dec(doc)


# -- the session --------------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Session:
    """The folder and state of one ``reproduce`` invocation, keyed by its identity.

    Args:
        project, profile: names (folder levels).
        cfg: the resolved config (a dataclass); its hash names the folder.
        fresh: delete any earlier state of this identity first.
        root: runs root (default ``$REPROKIT_RUNS`` or ``./runs``).
    """

    def __init__(
        self,
        project: str,
        profile: str,
        cfg: Any,
        fresh: bool = False,
        root: str | Path | None = None,
    ) -> None:
        from reprokit.runlog import runs_root

        self.project, self.profile, self.cfg = project, profile, cfg
        self.config_hash = config_hash(cfg)
        self.dir = runs_root(root) / project / profile / self.config_hash[:12]
        if fresh and self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._t0 = time.time()
        self.state = self._read_state()
        self.resumed = bool(self.state.get("units"))
        self.state.update(status="running", last_start=_now(), config_hash=self.config_hash)
        self.state.setdefault("config", _identity(cfg))
        self.state.setdefault("units", {})
        self.state.setdefault("wall_time_s", 0.0)
        self._write_state()

    # state file -----------------------------------------------------------------------------
    def _read_state(self) -> dict[str, Any]:
        path = self.dir / "session.json"
        if not path.exists():
            return {"project": self.project, "profile": self.profile}
        try:
            state = json.loads(path.read_text())
        except ValueError:
            raise CheckpointError(f"{path} is corrupt; rerun with --fresh to start over") from None
        if state.get("config_hash") != self.config_hash:
            diff = config_diff(state.get("config", {}), _identity(self.cfg))
            raise CheckpointError(f"{path} belongs to another config (differs in {diff})")
        return state

    def _write_state(self) -> None:
        with atomic_path(self.dir / "session.json") as tmp:
            tmp.write_text(json.dumps(jsonable(self.state), indent=2) + "\n")

    def _close(self, status: str, detail: str | None = None) -> None:
        self.state["status"] = status
        self.state["wall_time_s"] = round(self.state["wall_time_s"] + time.time() - self._t0, 3)
        self._t0 = time.time()
        if detail:
            self.state["detail"] = detail
        self._write_state()

    @property
    def wall_time_s(self) -> float:
        """Seconds spent in this identity so far, over every invocation (resumes included)."""
        return float(self.state["wall_time_s"]) + time.time() - self._t0

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self._close("finished")
        elif issubclass(exc_type, Interrupted | KeyboardInterrupt):
            self._close("interrupted", str(exc) or None)
        elif issubclass(exc_type, DivergenceError):
            self._close("diverged", " ".join(str(exc).split()))
        else:
            self._close("failed", f"{exc_type.__name__}: {' '.join(str(exc).split())[:300]}")

    # units ----------------------------------------------------------------------------------
    def unit_dir(self, name: str) -> Path:
        """The folder of one unit (its checkpoints, logs and stored result)."""
        d = self.dir / "units" / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def unit(self, name: str, compute: Callable[[Path], T]) -> T:
        """The unit's result: loaded if it finished in an earlier invocation, else computed.

        ``compute(unit_dir)`` runs the unit (it may resume from checkpoints in ``unit_dir``);
        its result is stored (:func:`save_result`) before the next unit starts.
        """
        folder = self.unit_dir(name)
        if self.state["units"].get(name) == "finished" and (folder / "result.json").exists():
            print(f"-- unit {name}: finished earlier, result reused", flush=True)
            return load_result(folder)
        self.boundary(f"before unit {name}")
        print(f"-- unit {name}", flush=True)
        self.state["units"][name] = "running"
        self._write_state()
        result = compute(folder)
        save_result(folder, result)
        self.state["units"][name] = "finished"
        self._write_state()
        return load_result(folder)  # the stored form: a resumed run sees exactly the same

    def boundary(self, where: str, save: Callable[[], Any] | None = None) -> None:
        """A step boundary: when a stop was requested, ``save()`` and raise :class:`Interrupted`."""
        boundary(where, save)


# -- where the report goes ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ReportTarget:
    """Where a run writes metrics.json, figures and RESULTS.md.

    Attributes:
        dir: the folder for metrics.json and figures.
        results_md: the RESULTS.md path.
        committed: True only for the unmodified committed profile (the files under git).
        why: one line for the console saying where the report went and why.
    """

    dir: Path
    results_md: Path
    committed: bool
    why: str


def report_target(
    project: str,
    profile: str,
    cfg: Any,
    profiles: Mapping[str, Any],
    anchor: str | Path,
    session: Session,
    out: str | Path | None = None,
    committed_profiles: Sequence[str] = ("cpu",),
) -> ReportTarget:
    """Committed results are written only by the unmodified profile.

    ``out`` (``--out DIR``) wins. Otherwise an unmodified committed profile writes
    ``<project>/results/<profile>/`` and ``<project>/RESULTS.md``; an unmodified other profile
    writes ``<project>/results/<profile>/`` (git-ignored) with its RESULTS.md inside; a run
    with overrides writes its report into its session folder, leaving the committed files alone.
    """
    from reprokit.report import _find_root

    if out is not None:
        d = Path(out)
        d.mkdir(parents=True, exist_ok=True)
        return ReportTarget(d, d / "RESULTS.md", False, f"report written to {d} (--out)")
    base = profiles[profile]
    base = base() if callable(base) and not dataclasses.is_dataclass(base) else base
    pristine = config_hash(base) == config_hash(cfg)
    root = _find_root(anchor) or Path.cwd()
    if not pristine:
        d = session.dir / "report"
        d.mkdir(parents=True, exist_ok=True)
        diff = config_diff(_identity(base), _identity(cfg))
        why = (
            f"overrides given ({diff}): report written to {d}; "
            f"committed results under {root / 'results'} untouched"
        )
        return ReportTarget(d, d / "RESULTS.md", False, why)
    d = root / "results" / profile
    d.mkdir(parents=True, exist_ok=True)
    if profile in committed_profiles:
        return ReportTarget(d, root / "RESULTS.md", True, f"committed results written to {d}")
    return ReportTarget(d, d / "RESULTS.md", False, f"report written to {d}")


# -- preflight checks ---------------------------------------------------------------------------
def check_file(path: str | Path | None, what: str, sha256: str | None = None) -> Path:
    """A user-supplied file exists (and has the expected SHA-256); else a one-line UserError."""
    if path is None:
        raise UserError(f"{what}: no file given")
    p = Path(path).expanduser()
    if not p.is_file():
        raise UserError(f"{what}: {p} does not exist or is not a file")
    if sha256 is not None:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() != sha256:
            raise UserError(
                f"{what}: {p} has SHA-256 {h.hexdigest()[:12]}…, expected {sha256[:12]}…"
            )
    return p


def check_device(name: str) -> str:
    """``"auto"`` resolves to cuda when available; an unavailable device is a one-line UserError."""
    if name == "cpu":
        return name
    import torch  # only projects with a device option call this

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {name}: no CUDA device is available on this machine (use cpu)")
    if name.startswith("cuda:") and int(name.split(":")[1]) >= torch.cuda.device_count():
        raise UserError(f"--device {name}: only {torch.cuda.device_count()} CUDA devices")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("--device mps: MPS is not available on this machine")
    return name


# -- console ------------------------------------------------------------------------------------
def quiet_known_warnings(extra: Iterable[str] = ()) -> None:
    """Silence third-party warnings that mean nothing for the user (:data:`KNOWN_WARNINGS`)."""
    for pattern in (*KNOWN_WARNINGS, *extra):
        warnings.filterwarnings("ignore", message=pattern)


def header(session: Session, expected: str | None = None, **facts: Any) -> None:
    """Print what is about to run: project, profile, facts (seeds, methods…), expected time."""
    lines = [f"== {session.project} · profile {session.profile} · run {session.dir}"]
    for k, v in facts.items():
        shown = ", ".join(map(str, v)) if isinstance(v, list | tuple) else v
        lines.append(f"   {k}: {shown}")
    if expected:
        lines.append(f"   expected wall time: {expected}")
    done = [u for u, s in session.state["units"].items() if s == "finished"]
    if done:
        lines.append(f"   resuming: {len(done)} finished unit(s) reused ({', '.join(done)})")
    print("\n".join(lines), flush=True)


def footer(
    session: Session, doc: Mapping[str, Any] | None, written: Iterable[str | Path], why: str = ""
) -> None:
    """Print the verdicts, the wall time and every path written."""
    from reprokit.report import console_summary

    lines = [f"== {session.project} · {session.profile} done in {session.wall_time_s:.0f} s"]
    if doc is not None:
        c = next(c for c in doc["claims"] if c["central"])
        m = doc["metrics"][c["metric"]]
        lines.append(
            f"   central claim {c['id']}: {c['verdict']} ({c['metric']} {format_mean_std(m)})"
        )
        lines.append(console_summary(doc))
    if why:
        lines.append(f"   {why}")
    lines += [f"   wrote {p}" for p in written]
    print("\n".join(lines), flush=True)


# -- the entry point ----------------------------------------------------------------------------
def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _run_closing_bars(run: Callable[[list[str], bool], Any], args: list[str], fresh: bool) -> None:
    """``run``; if it raises, close any open progress bar first (the error gets its own line)."""
    try:
        run(args, fresh)
    except BaseException:
        from tqdm import tqdm

        for bar in list(getattr(tqdm, "_instances", ())):
            bar.close()
        raise


def entry(
    prog: str, run: Callable[[list[str], bool], Any], argv: Sequence[str] | None = None
) -> None:
    """Run ``run(argv, fresh)`` under the lifecycle and exit with its status (never returns).

    ``--fresh`` is taken off ``argv``. Exit 0 on success; 2 with one line for a
    :class:`UserError` / :class:`CheckpointError`; 1 with one line for a divergence; 143/130
    with one line on SIGTERM/SIGINT; an unexpected exception keeps its traceback (exit 1).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    fresh = "--fresh" in args
    args = [a for a in args if a != "--fresh"]
    quiet_known_warnings()
    shown = " ".join([f"python -m {prog}", *args])
    resume = f"rerun the same command to resume ({shown}), or add --fresh to start over"
    with _stop_handlers():
        try:
            _run_closing_bars(run, args, fresh)
        except (UserError, CheckpointError) as e:
            print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
            raise SystemExit(EXIT_USER) from None
        except DivergenceError as e:
            print(f"{prog}: diverged: {_one_line(e)}", file=sys.stderr)
            raise SystemExit(EXIT_RUNTIME) from None
        except Interrupted as e:
            name = signal.Signals(e.signum).name
            print(f"{prog}: interrupted by {name} {e.where}; {resume}", file=sys.stderr)
            raise SystemExit(EXIT_SIGINT if e.signum == signal.SIGINT else EXIT_SIGTERM) from None
        except KeyboardInterrupt:
            print(
                f"{prog}: stopped (second Ctrl-C, no checkpoint at this step); {resume}",
                file=sys.stderr,
            )
            raise SystemExit(EXIT_SIGINT) from None
    raise SystemExit(0)
