"""The project contract, proved on a fixture project and then applied to every real project."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from contract import RepoView, central_verdict, check_headline, check_project
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


def _json_edit(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def apply(p: Path) -> None:
        path = p / "results/cpu/metrics.json"
        doc = json.loads(path.read_text())
        change(doc)
        path.write_text(json.dumps(doc))

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
    "metrics in an old layout": (
        lambda p: (p / "results/cpu/metrics.json").write_text('{"wall_time_s": 1.0, "lpt": 2}'),
        "lacks top-level key 'schema'",
    ),
    "bare NaN in metrics": (
        _edit("results/cpu/metrics.json", '"wall_time_s": 0.0', '"wall_time_s": NaN'),
        "strict JSON",
    ),
    "verdict typed by hand": (
        _json_edit(lambda d: d["claims"][1].update(verdict="not held")),
        "the rule gives 'held'",
    ),
    "differences edited": (
        _json_edit(lambda d: d["claims"][0]["differences"].__setitem__(0, -5.0)),
        "does not follow from its differences",
    ),
    "no central claim": (_json_edit(lambda d: d["claims"][0].update(central=False)), "central"),
    "two central claims": (_json_edit(lambda d: d["claims"][1].update(central=True)), "2 central"),
    "central claim on fewer than 3 seeds": (
        _json_edit(
            lambda d: d["metrics"]["score/method"].update(
                values=[0.81, 0.84], n=2, mean=0.825, std=0.0212
            )
        ),
        "not measured on >= 3 seeds",
    ),
    "central claim without a gate": (
        _json_edit(lambda d: d["claims"][0].update(gates=[])),
        "depends on no gate",
    ),
    "machine path in metrics": (
        _json_edit(lambda d: d.update(info={"cache": "/home/me/.cache/reprokit/x.npz"})),
        "machine-specific path",
    ),
    "RESULTS.md table edited by hand": (
        _edit("RESULTS.md", "| **held** |", "| **not held** |"),
        "does not match",
    ),
    "supplementary evidence in an old layout": (
        lambda p: (p / "results/cpu/extra_metrics.json").write_text('{"acc": 0.5}'),
        "results/cpu/extra_metrics.json: lacks top-level key 'schema'",
    ),
    "supplementary evidence without its table": (
        lambda p: (
            (p / "results/cpu/grid").mkdir()
            or (p / "results/cpu/grid/metrics.json").write_text(
                (p / "results/cpu/metrics.json").read_text().replace("beats the baseline", "wins")
            )
        ),
        "in no RESULTS.md",
    ),
    "metrics of another profile": (
        _json_edit(lambda d: d.update(profile="smoke")),
        "profile 'smoke'",
    ),
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


def test_headline_check_reads_the_central_verdict() -> None:
    row = (
        "| [`drc`](projects/drc) | paper | PyTorch | done | central claim C1: **not held** (IoU) |"
    )
    assert check_headline(row, "drc", "not held") == []
    assert check_headline(row, "drc", "held")
    assert check_headline(
        row.replace("central claim C1: **not held**", "IoU 0.19"), "drc", "not held"
    )
    assert check_headline("", "drc", "held")


@pytest.mark.parametrize("pyproject", PROJECTS, ids=[p.parent.name for p in PROJECTS])
def test_readme_headline_shows_the_central_verdict(pyproject: Path) -> None:
    folder = pyproject.parent
    if 'status = "wip"' in pyproject.read_text():
        pytest.skip("work in progress: no committed verdict yet")
    readme = (ROOT / "README.md").read_text()
    assert check_headline(readme, folder.name, central_verdict(folder)) == []
