"""Repository plumbing behind the Makefile: project discovery, `make list`, `make lock`, CI matrix.

Only the standard library is used, so this runs with any Python 3.11 before any env exists.

    python tools/repo.py list                  # each project with its one-line summary
    python tools/repo.py names                 # project names, one per line
    python tools/repo.py check-project NAME    # exit 2 naming the valid projects if NAME is unknown
    python tools/repo.py lock [NAME ...]       # regenerate requirements.lock files with uv
    python tools/repo.py tox-envs              # every tox env, in the order `make test` runs them
    python tools/repo.py sync                  # derive tox env_list + CI matrix from projects/
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = ROOT / "projects"
SHARED = ROOT / "shared"
LOCK_NAME = "requirements.lock"
TORCH_PIN = "torch==2.13.0"
# Python version and platform the locks are resolved for (CI and this machine: CPython 3.11, Linux).
LOCK_PYTHON = "3.11"


def project_dirs(root: Path = PROJECTS) -> list[Path]:
    """Every folder under projects/ that holds a pyproject.toml, sorted by name."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "pyproject.toml").is_file())


def project_names() -> list[str]:
    return [p.name for p in project_dirs()]


def read_pyproject(folder: Path) -> dict:
    with open(folder / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def meta(folder: Path) -> dict:
    """The `[tool.reprokit]` table of a project (status, framework, summary)."""
    return read_pyproject(folder).get("tool", {}).get("reprokit", {})


def status(folder: Path) -> str:
    """`wip` while a project declares itself work in progress, else `done`."""
    return "wip" if meta(folder).get("status") == "wip" else "done"


def cmd_list() -> int:
    for folder in project_dirs():
        m = meta(folder)
        summary = m.get("summary") or read_pyproject(folder)["project"].get("description", "")
        tag = f"[{m.get('framework', '?')}, {status(folder)}]"
        print(f"{folder.name:<12} {tag:<14} {summary}")
    return 0


def cmd_check_project(name: str) -> int:
    names = project_names()
    if name in names:
        return 0
    what = "PROJECT is not set" if not name else f"unknown PROJECT '{name}'"
    print(f"error: {what}; valid projects: {', '.join(names) or '(none yet)'}", file=sys.stderr)
    return 2


def find_links() -> str | None:
    """The local wheel folder pip's configuration names (holds the CPU torch wheel), if any."""
    if os.environ.get("UV_FIND_LINKS"):
        return os.environ["UV_FIND_LINKS"]
    try:
        cmd = [sys.executable, "-m", "pip", "config", "list"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key.endswith("find-links"):
            folder = value.strip().strip("'\"").split()[0]
            if Path(folder).is_dir():
                return folder
    return None


def portable(lock_text: str) -> str:
    """Make a compiled lock portable: drop local editables and local-version labels (+cpu).

    `torch==2.13.0+cpu` (the CPU wheel resolved here) becomes `torch==2.13.0`, which pip/uv satisfy
    with the CPU wheel on this machine and with the CUDA build from PyPI on a GPU machine.
    """
    lines = []
    for line in lock_text.splitlines():
        if line.startswith("-e ") or line.startswith("--find-links"):
            continue
        lines.append(re.sub(r"^([A-Za-z0-9_.\-]+==[^+\s;]+)\+[A-Za-z0-9.]+", r"\1", line))
    return "\n".join(lines).rstrip() + "\n"


def lock_inputs(folder: Path) -> list[str]:
    """What a lock resolves: the shared package and the folder itself, each with its test extra."""
    if folder == SHARED:
        return [f"-e {SHARED}[torch,jax,tensorboard,text,test]"]
    if folder == ROOT / "tests":
        return [f"-r {folder / 'requirements.in'}", f"-e {SHARED}[test]"]
    return [f"-e {SHARED}", f"-e {folder}[test]"]


def lock(folder: Path, uv: str) -> None:
    name = "repo" if folder == ROOT / "tests" else folder.name
    env = dict(os.environ)
    links = find_links()
    if links:
        env["UV_FIND_LINKS"] = links
    with tempfile.TemporaryDirectory() as tmp:
        req_in = Path(tmp) / "requirements.in"
        req_in.write_text("\n".join(lock_inputs(folder)) + "\n")
        out = Path(tmp) / LOCK_NAME
        cmd = [uv, "pip", "compile", str(req_in), "-o", str(out), "-q", "--no-annotate"]
        cmd += ["--python-version", LOCK_PYTHON, "--python-platform", "x86_64-unknown-linux-gnu"]
        cmd += ["--custom-compile-command", f"make lock PROJECT={name}"]
        if subprocess.run(cmd, env=env).returncode != 0:
            raise SystemExit(f"error: uv could not lock {folder.relative_to(ROOT)} (see above)")
        (folder / LOCK_NAME).write_text(portable(out.read_text()))
    print(f"locked {folder.relative_to(ROOT)}/{LOCK_NAME}")


def cmd_lock(names: list[str], uv: str) -> int:
    special = {"shared": SHARED, "repo": ROOT / "tests"}
    targets = names or [*special, *project_names()]
    for name in targets:
        if name not in special and cmd_check_project(name):
            return 2
        lock(special.get(name, PROJECTS / name), uv)
    return 0


def tox_envs() -> list[str]:
    return ["repo", "shared", *project_names()]


def cmd_sync() -> int:
    """Derive tox.ini's env_list and the CI test matrix from the folders under projects/."""
    envs = tox_envs()
    tox = ROOT / "tox.ini"
    block = "env_list =\n" + "".join(f"    {e}\n" for e in envs)
    tox.write_text(re.sub(r"env_list =\n(?:    \S+\n)+", block, tox.read_text(), count=1))
    ci = ROOT / ".github" / "workflows" / "ci.yml"
    block = "        env:\n" + "".join(f"          - {e}\n" for e in envs)
    ci.write_text(re.sub(r"        env:\n(?:          - \S+\n)+", block, ci.read_text(), count=1))
    print(f"tox.ini and ci.yml list: {', '.join(envs)}")
    return 0


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "list":
        return cmd_list()
    if cmd == "names":
        print("\n".join(project_names()))
        return 0
    if cmd == "check-project":
        return cmd_check_project(args[0] if args else "")
    if cmd == "lock":
        return cmd_lock(args, os.environ.get("UV", "uv"))
    if cmd == "sync":
        return cmd_sync()
    if cmd == "tox-envs":
        print(",".join(tox_envs()))
        return 0
    valid = "list, names, check-project, lock, tox-envs, sync"
    print(f"error: unknown command '{cmd}'; valid: {valid}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
