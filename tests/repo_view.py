"""Read the repository's own tox env list, CI matrix and project folders."""

from __future__ import annotations

import configparser
from pathlib import Path

import yaml
from contract import RepoView

ROOT = Path(__file__).resolve().parents[1]


def project_names() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "projects").glob("*/pyproject.toml"))


def tox_envs() -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini")
    return parser["tox"]["env_list"].split()


def ci_matrix() -> list[str]:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    return list(workflow["jobs"]["test"]["strategy"]["matrix"]["env"])


def repo_view() -> RepoView:
    return RepoView(
        tox_envs=frozenset(tox_envs()),
        ci_envs=frozenset(ci_matrix()),
        projects=frozenset(project_names()),
    )
