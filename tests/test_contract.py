"""The project contract, proved on a fixture project and then applied to every real project."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from contract import RepoView, check_project
from repo_view import ROOT, repo_view

FIXTURE = Path(__file__).parent / "fixtures" / "goodproject"


def fixture_view(**extra: frozenset[str]) -> RepoView:
    names = frozenset({"goodproject"})
    base = {"tox_envs": names, "ci_envs": names, "projects": names | {"otherproject"}}
    return RepoView(**{**base, **extra})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "goodproject"
    shutil.copytree(FIXTURE, dest)
    return dest


def test_fixture_honours_contract(project: Path) -> None:
    assert check_project(project, fixture_view()) == []


def _edit(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(p: Path) -> None:
        path = p / rel
        text = path.read_text()
        assert old in text, f"mutation target {old!r} not in {rel}"
        path.write_text(text.replace(old, new))

    return apply


def _delete(rel: str) -> Callable[[Path], None]:
    def apply(p: Path) -> None:
        target = p / rel
        shutil.rmtree(target) if target.is_dir() else target.unlink()

    return apply


def _append(rel: str, text: str) -> Callable[[Path], None]:
    def apply(p: Path) -> None:
        with open(p / rel, "a") as f:
            f.write(text)

    return apply


MUTATIONS = {
    "no pyproject": (_delete("pyproject.toml"), "no pyproject.toml"),
    "no lockfile": (_delete("requirements.lock"), "no lockfile"),
    "unpinned lock line": (_edit("requirements.lock", "numpy==2.4.6", "numpy>=2"), "exact pin"),
    "machine path in lock": (
        _append("requirements.lock", "torch @ file:///opt/wheels/torch.whl\n"),
        "machine-specific path",
    ),
    "dependency not locked": (_edit("requirements.lock", "numpy==2.4.6\n", ""), "'numpy'"),
    "no socket guard": (_edit("requirements.lock", "pytest-socket==0.8.1\n", ""), "pytest-socket"),
    "torch not pinned to 2.13.0": (
        _edit("pyproject.toml", '"numpy>=1.26"', '"numpy>=1.26", "torch==2.13.0"'),
        "torch==2.13.0",
    ),
    "README lacks a section": (_edit("README.md", "## Deviations", "## Other"), "Deviations"),
    "no README": (_delete("README.md"), "no README.md"),
    "no RESULTS.md": (_delete("RESULTS.md"), "RESULTS.md"),
    "no metrics.json": (_delete("results/cpu/metrics.json"), "metrics.json"),
    "no tests folder": (_delete("tests"), "tests/"),
    "no reproduce module": (_delete("src/goodproject/reproduce.py"), "reproduce"),
    "imports another project": (
        _append("src/goodproject/reproduce.py", "\nimport otherproject.model\n"),
        "imports another project",
    ),
    "no summary": (_edit("pyproject.toml", 'summary = "contract fixture"', ""), "summary"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_contract_catches(project: Path, name: str) -> None:
    mutate, expected = MUTATIONS[name]
    mutate(project)
    problems = check_project(project, fixture_view())
    assert any(expected in p for p in problems), problems


def test_contract_catches_missing_tox_env_and_ci_entry(project: Path) -> None:
    problems = check_project(project, fixture_view(tox_envs=frozenset(), ci_envs=frozenset()))
    assert any("tox env" in p for p in problems)
    assert any("CI matrix" in p for p in problems)


def test_work_in_progress_needs_everything_but_results(project: Path) -> None:
    _delete("RESULTS.md")(project)
    _delete("results")(project)
    assert check_project(project, fixture_view())  # a finished project needs its results
    _append("pyproject.toml", '\nstatus = "wip"\n')(project)  # [tool.reprokit] is the last table
    assert check_project(project, fixture_view()) == []
    _delete("README.md")(project)  # ...but nothing else is waived
    assert check_project(project, fixture_view()) == ["no README.md"]


PROJECTS = sorted((ROOT / "projects").glob("*/pyproject.toml"))


@pytest.mark.parametrize("pyproject", PROJECTS, ids=[p.parent.name for p in PROJECTS])
def test_project_honours_contract(pyproject: Path) -> None:
    assert check_project(pyproject.parent, repo_view()) == []
