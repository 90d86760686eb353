"""Where a result came from: git commit, package versions, host, CPU and GPU.

Everything here is best-effort and never raises: outside a git checkout the commit is ``None``;
GPU information is read from torch only when torch is already imported, otherwise from
``nvidia-smi`` when it exists (frameworks are never imported just to describe the machine).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["code_tree", "cpu_model", "git_info", "gpu_info", "machine_info", "package_versions"]

DEFAULT_PACKAGES = (
    "reprokit",
    "numpy",
    "scipy",
    "h5py",
    "matplotlib",
    "scikit-learn",
    "torch",
    "jax",
    "jaxlib",
    "flax",
    "optax",
    "gymnasium",
    "tensorboard",
)


def _run(cmd: list[str], cwd: str | Path | None = None) -> str | None:
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def git_info(
    path: str | Path | None = None,
    scope: list[str | Path] | tuple[str | Path, ...] = (),
    exclude: list[str | Path] | tuple[str | Path, ...] = (),
) -> dict[str, Any]:
    """``{"commit", "dirty", "code_tree"}`` of the checkout containing ``path``.

    ``scope`` limits "dirty" to tracked changes under those paths (e.g. the project's folder and
    ``shared/``), so another project's edits in the same checkout do not mark a result dirty;
    ``exclude`` leaves paths inside the scope out (e.g. the files the run itself writes);
    ``code_tree`` digests the committed files of the same scope (see ``code_tree``). Values are
    None outside a git checkout.
    """
    cwd = Path(path) if path is not None else Path.cwd()
    if cwd.is_file():
        cwd = cwd.parent
    if not cwd.exists():
        cwd = Path.cwd()
    commit = _run(["git", "rev-parse", "HEAD"], cwd)
    if not commit:
        return {"commit": None, "dirty": None, "code_tree": None}
    pathspec = [str(Path(s).resolve()) for s in scope]
    if pathspec and exclude:
        pathspec += [f":(exclude){Path(s).resolve()}" for s in exclude]
    cmd = ["git", "status", "--porcelain", "--untracked-files=no"]
    status = _run(cmd + (["--", *pathspec] if pathspec else []), cwd)
    return {
        "commit": commit,
        "dirty": None if status is None else bool(status),
        "code_tree": code_tree(cwd, scope, exclude),
    }


def code_tree(
    path: str | Path,
    scope: list[str | Path] | tuple[str | Path, ...] = (),
    exclude: list[str | Path] | tuple[str | Path, ...] = (),
) -> str | None:
    """A digest of the committed non-markdown files under ``scope`` minus ``exclude``.

    Unlike the commit id it survives a rebase onto commits that touch none of those files, and
    an edit of a README, so a RESULTS.md can name the code it came from after its branch was
    rebased or documented. It is the SHA-256 of HEAD's ``git ls-tree -r`` lines (mode, blob id,
    path) under the scope, ``*.md`` left out, first 12 hex digits; ``python -m
    reprokit.provenance projects/<name>`` prints it for a project. None outside git.
    """
    cwd = Path(path)
    root = _run(["git", "rev-parse", "--show-toplevel"], cwd)
    if not root:
        return None
    rel = [os.path.relpath(Path(s).resolve(), root) for s in scope] or ["."]
    listing = _run(["git", "ls-tree", "-r", "HEAD", "--", *rel], root)
    if listing is None:
        return None
    skip = [os.path.relpath(Path(s).resolve(), root) for s in exclude]
    kept = [
        line
        for line in listing.splitlines()
        if not line.endswith(".md") and not any(_under(line.split("\t", 1)[-1], s) for s in skip)
    ]
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()[:12]


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def package_versions(extra: tuple[str, ...] | list[str] = ()) -> dict[str, str]:
    """Installed versions of the usual packages plus ``extra`` (missing ones are left out)."""
    out: dict[str, str] = {}
    for name in (*DEFAULT_PACKAGES, *extra):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), or platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def gpu_info() -> list[str]:
    """Names of visible GPUs; empty list when none (or when nothing can tell)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                n = torch.cuda.device_count()
                return [torch.cuda.get_device_name(i) for i in range(n)]
            return []
        except Exception:
            return []
    if shutil.which("nvidia-smi"):
        out = _run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
        if out:
            return [line.strip() for line in out.splitlines() if line.strip()]
    return []


def machine_info() -> dict[str, Any]:
    """Host, OS, python, CPU model and cores, thread settings and GPUs."""
    try:
        cores_avail = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores_avail = os.cpu_count()
    info: dict[str, Any] = {
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_available": cores_avail,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "gpus": gpu_info(),
    }
    jax = sys.modules.get("jax")
    if jax is not None:
        with contextlib.suppress(Exception):
            info["jax_devices"] = [str(d) for d in jax.devices()]
    return info


def project_code_scope(base: str | Path) -> tuple[list[Path], list[Path]]:
    """The code a project's results depend on, and the run's own outputs inside it.

    Returns ``(scope, outputs)``: the project folder and the repo's ``shared/``; the project's
    ``results/`` and ``RESULTS.md``, which a run rewrites (their edits are the report, not a
    change of code). ``base`` is ``projects/<name>/`` or any folder inside it; outside a
    ``projects/<name>/`` tree both are empty, i.e. the whole checkout.
    """
    base = Path(base).resolve()
    for folder in (base, *base.parents):
        if folder.parent.name == "projects":
            shared = folder.parent.parent / "shared"
            scope = [folder, shared] if shared.is_dir() else [folder]
            return scope, [folder / "results", folder / "RESULTS.md"]
    return [], []


def main(argv: list[str] | None = None) -> int:
    """``python -m reprokit.provenance projects/<name>``: the code tree a RESULTS.md names."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m reprokit.provenance projects/<name>", file=sys.stderr)
        return 2
    scope, outputs = project_code_scope(args[0])
    print(code_tree(args[0], scope, outputs) or "not in a git checkout")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
