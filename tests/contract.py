"""The project contract (README "Adding a project"), as a function listing what a folder lacks.

`check_project` returns readable problems; an empty list means the folder honours the contract.
It is run on every `projects/<name>/` and on the fixture projects under `tests/fixtures/`, so the
checks prove themselves before any paper project exists.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from reprokit.claims import validate
from reprokit.report import claims_table

README_SECTIONS = ("Method", "Quickstart", "Results", "Deviations", "Full scale")
LOCK_NAME = "requirements.lock"
TORCH_PIN = "torch==2.13.0"
PIN_LINE = re.compile(r"^[A-Za-z0-9_.\-]+(\[[A-Za-z0-9_,.\-]+\])?==[A-Za-z0-9_.!+\-]+( ;.*)?$")
MACHINE_PATH = re.compile(r"(^|[\s=@])(/|file:|~)|\\")


@dataclass(frozen=True)
class RepoView:
    """What the contract compares a project against: the tox envs, CI matrix and project names."""

    tox_envs: frozenset[str]
    ci_envs: frozenset[str]
    projects: frozenset[str]


def normalize(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(req: str) -> str:
    return normalize(re.split(r"[\s\[<>=!~;@]", req.strip(), maxsplit=1)[0])


def read_lock(path: Path) -> dict[str, str]:
    """Map normalised name -> full pin line of a lockfile (comments and blanks skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pins[requirement_name(line)] = line
    return pins


def is_wip(pyproject: dict) -> bool:
    return pyproject.get("tool", {}).get("reprokit", {}).get("status") == "wip"


def check_lock(folder: Path, pyproject: dict) -> list[str]:
    lock = folder / LOCK_NAME
    if not lock.is_file():
        return [f"no lockfile {LOCK_NAME}"]
    problems = []
    for line in lock.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not PIN_LINE.match(line):
            problems.append(f"lockfile line is not an exact pin: {line!r}")
        if MACHINE_PATH.search(line):
            problems.append(f"lockfile line holds a machine-specific path: {line!r}")
    pins = read_lock(lock)
    project = pyproject.get("project", {})
    wanted = list(project.get("dependencies", []))
    wanted += project.get("optional-dependencies", {}).get("test", [])
    for req in wanted:
        name = requirement_name(req)
        if name != "reprokit" and name not in pins:
            problems.append(f"lockfile does not pin dependency '{name}'")
    uses_torch = "torch" in {requirement_name(r) for r in wanted}
    framework = pyproject.get("tool", {}).get("reprokit", {}).get("framework")
    if (uses_torch or framework == "torch") and pins.get("torch") != TORCH_PIN:
        problems.append(f"torch project must pin {TORCH_PIN} (lock has {pins.get('torch')!r})")
    if "pytest-socket" not in pins:
        problems.append("lockfile lacks pytest-socket (the no-network guard)")
    return problems


def check_readme(folder: Path) -> list[str]:
    readme = folder / "README.md"
    if not readme.is_file():
        return ["no README.md"]
    headings = [h.lower() for h in re.findall(r"^#+\s+(.*)$", readme.read_text(), flags=re.M)]
    return [
        f"README.md has no '{section}' section"
        for section in README_SECTIONS
        if not any(section.lower() in h for h in headings)
    ]


def check_results(folder: Path) -> list[str]:
    """The committed evidence: a valid ``reprokit.metrics/1`` document and its generated table."""
    problems = []
    results_md = folder / "RESULTS.md"
    if not results_md.is_file():
        problems.append("no RESULTS.md (run `make reproduce PROJECT=<name>` and commit it)")
    metrics = folder / "results" / "cpu" / "metrics.json"
    if not metrics.is_file():
        return [*problems, "no results/cpu/metrics.json beside RESULTS.md"]
    try:
        doc = json.loads(metrics.read_text(), parse_constant=_reject_constant)
    except ValueError as err:
        return [*problems, f"results/cpu/metrics.json is not strict JSON: {err}"]
    invalid = validate(doc)
    problems += [f"results/cpu/metrics.json: {p}" for p in invalid]
    if invalid or not isinstance(doc, dict):
        return problems
    if doc["project"] != folder.name:
        problems.append(f"results/cpu/metrics.json is for project {doc['project']!r}")
    if doc["profile"] != "cpu":
        problems.append(f"results/cpu/metrics.json comes from profile {doc['profile']!r}, not cpu")
    if results_md.is_file() and claims_table(doc) not in results_md.read_text():
        problems.append("RESULTS.md claims table does not match results/cpu/metrics.json")
    return problems + check_other_evidence(folder)


def check_other_evidence(folder: Path) -> list[str]:
    """Every further committed evidence file (``results/cpu/<x>_metrics.json``, or a
    supplementary ``results/cpu/<run>/metrics.json``) is valid and has its table in a report."""
    cpu = folder / "results" / "cpu"
    files = [*cpu.glob("*_metrics.json"), *(p for p in cpu.glob("*/metrics.json"))]
    problems = []
    for path in sorted(files):
        rel = path.relative_to(folder)
        try:
            doc = json.loads(path.read_text(), parse_constant=_reject_constant)
        except ValueError as err:
            problems.append(f"{rel} is not strict JSON: {err}")
            continue
        invalid = validate(doc)
        problems += [f"{rel}: {p}" for p in invalid]
        if invalid:
            continue
        reports = [folder / "RESULTS.md", path.parent / "RESULTS.md"]
        table = claims_table(doc)
        if not any(r.is_file() and table in r.read_text() for r in reports):
            problems.append(f"{rel}: its claims table is in no RESULTS.md")
    return problems


def _reject_constant(name: str) -> None:
    raise ValueError(f"bare {name} (strict JSON has no NaN/Infinity)")


def central_verdict(folder: Path) -> str | None:
    """The committed verdict of a project's central claim (None without valid evidence)."""
    metrics = folder / "results" / "cpu" / "metrics.json"
    try:
        doc = json.loads(metrics.read_text())
        return next(c["verdict"] for c in doc["claims"] if c.get("central"))
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return None


def check_headline(readme: str, name: str, verdict: str | None) -> list[str]:
    """The repo README's row for ``name`` shows its central claim's committed verdict."""
    rows = [line for line in readme.splitlines() if line.startswith(f"| [`{name}`]")]
    if len(rows) != 1:
        return [f"README.md has {len(rows)} table rows for {name}, expected one"]
    if verdict is None:
        return [f"{name} has no committed central-claim verdict"]
    row = rows[0].replace("**", "")
    if not re.search(rf"central claim[^:|]*:\s*{re.escape(verdict)}\b", row):
        return [f"README.md row for {name} does not show 'central claim …: {verdict}'"]
    return []


def check_tests(folder: Path) -> list[str]:
    files = sorted((folder / "tests").glob("test_*.py"))
    if not files:
        return ["no tests/test_*.py"]
    if not any(re.search(r"^\s*def test_", f.read_text(), flags=re.M) for f in files):
        return ["tests/ holds no test function"]
    return []


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods.add(node.module.split(".")[0])
    return mods


def check_imports(folder: Path, name: str, projects: frozenset[str]) -> list[str]:
    others = projects - {name}
    problems = []
    for path in sorted([*folder.glob("src/**/*.py"), *folder.glob("tests/**/*.py")]):
        for mod in sorted(imported_modules(path) & others):
            problems.append(f"{path.relative_to(folder)} imports another project: {mod}")
    return problems


def check_project(folder: Path, repo: RepoView) -> list[str]:
    """Every way `folder` falls short of the project contract (empty when it honours it)."""
    name = folder.name
    if not (folder / "pyproject.toml").is_file():
        return ["no pyproject.toml"]
    with open(folder / "pyproject.toml", "rb") as f:
        pyproject = tomllib.load(f)
    problems = []
    if pyproject.get("project", {}).get("name") != name:
        problems.append(f"pyproject [project].name is not '{name}'")
    if not pyproject.get("tool", {}).get("reprokit", {}).get("summary"):
        problems.append("pyproject lacks [tool.reprokit] summary (shown by `make list`)")
    problems += check_lock(folder, pyproject)
    problems += check_readme(folder)
    if not is_wip(pyproject):
        problems += check_results(folder)
    problems += check_tests(folder)
    if not (folder / "src" / name / "reproduce.py").is_file():
        problems.append(f"no module {name}.reproduce (src/{name}/reproduce.py)")
    if name not in repo.tox_envs:
        problems.append(f"no tox env '{name}' in tox.ini")
    if name not in repo.ci_envs:
        problems.append(f"no CI matrix entry '{name}' in .github/workflows/ci.yml")
    problems += check_imports(folder, name, repo.projects)
    return problems
