"""reprokit.report: summaries, atomic metrics.json, RESULTS.md, results_dir."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from reprokit.claims import Claim, Constant, Evidence, Gate
from reprokit.report import (
    claims_table,
    console_summary,
    format_mean_std,
    keep_sections,
    marked_section,
    merge_section,
    results_dir,
    section_markers,
    summarize,
    write_metrics,
    write_results,
)


def test_summarize_sample_std():
    s = summarize([1.0, 2.0, 3.0])
    assert s["mean"] == 2.0 and s["n"] == 3 and s["values"] == [1.0, 2.0, 3.0]
    assert math.isclose(s["std"], 1.0)  # ddof=1
    assert summarize([4.0])["std"] == 0.0
    assert summarize(np.array([1, 3]))["mean"] == 2.0
    assert summarize([])["n"] == 0


def test_format_mean_std():
    assert format_mean_std({"mean": 61.234, "std": 3.14, "n": 3}) == "61.2 ± 3.1 (n=3)"
    assert format_mean_std({"mean": 0.81234, "std": 0.0123, "n": 5}) == "0.812 ± 0.012 (n=5)"
    assert format_mean_std([1.0, 2.0, 3.0], digits=2) == "2.00 ± 1.00 (n=3)"
    assert format_mean_std({"mean": 1234.5, "std": 56.0, "n": 2}) == "1234 ± 56 (n=2)"
    assert format_mean_std({"value": 0.30512}) == "0.3051"
    assert format_mean_std({"mean": 8e-16, "std": 1e-16, "n": 3}) == "8.00e-16 ± 1.0e-16 (n=3)"
    assert format_mean_std({"values": [None], "mean": None, "std": None, "n": 0}) == "— (n=0)"


def test_write_metrics_converts_and_is_atomic(tmp_path):
    path = tmp_path / "sub" / "metrics.json"
    metrics = {
        "a": np.float32(1.5),
        "b": np.arange(3),
        "c": (np.int64(2), Path("x/y")),
        "nested": {"d": np.bool_(True)},
    }
    assert write_metrics(path, metrics) == path
    data = json.loads(path.read_text())
    assert data == {"a": 1.5, "b": [0, 1, 2], "c": [2, "x/y"], "nested": {"d": True}}
    assert os.listdir(path.parent) == ["metrics.json"]  # no temp file left
    with pytest.raises(TypeError):
        write_metrics(path, {"bad": object()})
    assert json.loads(path.read_text()) == data  # failed write left the old file intact


def test_write_results(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    fig = tmp_path / "results" / "cpu" / "curves.png"
    fig.parent.mkdir(parents=True)
    fig.write_bytes(b"png")
    ev = Evidence("lpt", "cpu", seeds=[0, 1, 2])
    ev.add("score/lpt", [0.61, 0.58, 0.64])
    ev.add("score/dt", [0.30, 0.31, 0.29])
    ev.add("goal_rate/controller", [1.0, 1.0, 0.9])
    gates = [
        Gate("G1", "the controller reaches the goal", "goal_rate/controller", Constant(0.5, "half"))
    ]
    claims = [
        Claim(
            "C1",
            "LPT beats DT",
            "score/lpt",
            "score/dt",
            central=True,
            gates=("G1",),
            paper="65 vs 31 (D4RL)",
        ),
        Claim("C2", "a | b", "score/dt", Constant(0.5, "chance")),
    ]
    ev.judge(gates, claims)
    doc = ev.to_dict(512.0)
    out = write_results(
        tmp_path / "RESULTS.md",
        doc,
        title="LPT (CPU profile)",
        figures={"Learning curves": fig},
        command="make reproduce PROJECT=lpt",
        notes="Scores on generated data are not comparable.",
        metrics_path=tmp_path / "results" / "cpu" / "metrics.json",
    )
    text = out.read_text()
    assert text.startswith("# LPT (CPU profile)\n")
    assert claims_table(doc) in text  # the table is the generated one, verbatim
    assert (
        "| C1 (central): LPT beats DT | `score/lpt` | 65 vs 31 (D4RL) | 0.610 ± 0.030 (n=3) |"
        in text
    )
    assert "| **held** |" in text and "| **not held** |" in text
    assert "a \\| b" in text
    assert "chance = 0.5 (constant)" in text
    assert "![Learning curves](results/cpu/curves.png)" in text
    assert "8.5 min" in text and "make reproduce PROJECT=lpt" in text
    assert "Seeds: 0, 1, 2 (n=3)" in text
    assert "OMP_NUM_THREADS=1" in text and "Python " in text and "cores" in text
    assert "not comparable" in text
    assert "C1" in console_summary(doc) and "held" in console_summary(doc)


def test_results_dir(tmp_path, monkeypatch):
    proj = tmp_path / "projects" / "emd"
    src = proj / "src" / "emd"
    src.mkdir(parents=True)
    (proj / "pyproject.toml").write_text("[project]\nname='emd'\n")
    anchor = src / "reproduce.py"
    anchor.write_text("")
    d = results_dir("emd", "cpu", anchor=anchor)
    assert d == (proj / "results" / "cpu").resolve() and d.is_dir()
    assert results_dir("emd", "smoke", anchor=anchor, out=tmp_path / "o") == tmp_path / "o"
    lone = tmp_path / "lone"
    lone.mkdir()
    monkeypatch.chdir(lone)
    d2 = results_dir("emd", "cpu", anchor=Path("/") / "no_pyproject_here.py")
    assert d2.resolve() == (lone / "results" / "cpu").resolve() and d2.is_dir()


def test_retable_rewrites_only_the_generated_table(tmp_path):
    from reprokit.report import retable

    ev = Evidence("p", "cpu", seeds=[0, 1, 2])
    ev.add("a", [1e-15, 2e-15, 3e-15])
    ev.add("b", [0.3, 0.31, 0.29])
    ev.judge(
        [Gate("G", "g", "b", Constant(0.0, "zero"))],
        [
            Claim(
                "C", "c", "a", Constant(1e-5, "tol"), direction="lower", central=True, gates=("G",)
            )
        ],
    )
    metrics = ev.write(tmp_path / "metrics.json", 1.0)
    doc = ev.to_dict(1.0)
    md = write_results(tmp_path / "RESULTS.md", doc, "T", notes="keep me")
    stale = md.read_text().replace("2.00e-15", "0.000000")
    md.write_text(stale)
    assert retable(md, metrics) is True
    text = md.read_text()
    assert claims_table(doc) in text and "keep me" in text and "0.000000" not in text
    assert retable(md, metrics) is False


def _git(repo: Path, *args: str) -> None:
    import subprocess

    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_COMMITTER_EMAIL": "t@t", "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True)


def test_results_code_line_is_dirty_only_for_its_own_project_or_shared(tmp_path):
    """Another project's uncommitted edit leaves a report clean; its own or shared/'s do not.

    The run's own outputs (the project's results/ and RESULTS.md, rewritten just before the
    code line is written) are not code and leave it clean too.
    """
    outputs = ("projects/a/results/cpu/metrics.json", "projects/a/RESULTS.md")
    for rel in ("projects/a/code.py", "projects/b/code.py", "shared/lib.py", *outputs):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "init")
    ev = Evidence("a", "cpu", seeds=[0, 1, 2])
    ev.add("m", [1.0, 1.1, 0.9])
    ev.judge([], [Claim("C", "c", "m", Constant(0.0, "zero"), central=True)])
    doc = ev.to_dict(1.0)

    def code_line() -> str:
        text = write_results(tmp_path / "projects" / "a" / "RESULTS.md", doc, "T").read_text()
        return next(line for line in text.splitlines() if line.startswith("- Code: git "))

    assert "uncommitted" not in code_line()
    (tmp_path / outputs[0]).write_text("{}\n")
    assert "uncommitted" not in code_line()
    (tmp_path / "projects/b/code.py").write_text("x = 2\n")
    assert "uncommitted" not in code_line()
    for rel in ("projects/a/code.py", "shared/lib.py"):
        (tmp_path / rel).write_text("x = 3\n")
        assert "uncommitted changes in this project or shared/" in code_line()
        _git(tmp_path, "checkout", "--", rel)


def test_a_side_run_replaces_its_own_section(tmp_path):
    """merge_section: a second committed profile's report becomes one marked section."""
    md = tmp_path / "RESULTS.md"
    md.write_text("# Maze\n\n## Claims\nmaze table\n")
    start, end = section_markers("long")
    for n in (1, 2):
        sec = tmp_path / ".section.md"
        sec.write_text(f"# title\n\n## Claims\ncheetah {n}\n")
        merge_section(md, sec, "cpu-long profile", "long")
        assert not sec.exists()
    text = md.read_text()
    assert text.count(start) == 1 and text.count(end) == 1
    assert "maze table" in text and "cheetah 2" in text and "cheetah 1" not in text
    assert "## cpu-long profile\n" in text and "### Claims\ncheetah 2" in text


def test_a_cpu_run_keeps_the_marked_sections(tmp_path):
    md = tmp_path / "RESULTS.md"
    (a0, a1), (b0, b1) = section_markers("a"), section_markers("b")
    md.write_text(f"# v1\n\n{a0}\n## A\na\n{a1}\n\n{b0}\n## B\nb\n{b1}\n")
    kept = [marked_section(md, t) for t in ("a", "b", "c")]
    assert kept[2] is None and marked_section(tmp_path / "missing.md", "a") is None
    md.write_text("# v2\n")  # what write_results does on a cpu run
    keep_sections(md, kept)
    text = md.read_text()
    assert text == f"# v2\n\n{a0}\n## A\na\n{a1}\n\n{b0}\n## B\nb\n{b1}\n"


def test_a_merged_report_keeps_its_claims_table_verbatim(tmp_path):
    """The contract finds a second document's generated table, unchanged, in RESULTS.md."""
    ev = Evidence("a", "cpu-long", seeds=[0, 1, 2])
    ev.add("m", [1.0, 1.1, 0.9])
    gate = Gate("G", "g", "m", Constant(0.0, "zero"))
    ev.judge([gate], [Claim("C", "c", "m", Constant(0.5, "half"), central=True)])
    doc = ev.to_dict(1.0)
    md = tmp_path / "RESULTS.md"
    md.write_text("# cpu report\n")
    section = write_results(tmp_path / ".section.md", doc, "cpu-long report")
    merge_section(md, section, "cpu-long profile", "cpu-long")
    assert claims_table(doc) in md.read_text()
    assert "\n### Run\n" in md.read_text()


def test_code_tree_survives_commits_outside_the_project_and_readme_edits(tmp_path, capsys):
    """The code-tree digest names a project's code across a rebase; a code change moves it."""
    from reprokit.provenance import code_tree, main, project_code_scope

    for rel in ("projects/a/code.py", "projects/a/README.md", "projects/b/code.py", "shared/x.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "init")
    project = tmp_path / "projects" / "a"

    def digest() -> str | None:
        return code_tree(project, *project_code_scope(project))

    def commit(rel: str, text: str) -> None:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
        _git(tmp_path, "add", ".")
        _git(tmp_path, "commit", "-q", "-m", rel)

    first = digest()
    assert first is not None and len(first) == 12
    for rel in ("projects/b/code.py", "projects/a/README.md", "projects/a/results/m.json"):
        commit(rel, "x = 2\n")
        assert digest() == first, rel
    for rel in ("projects/a/code.py", "shared/x.py"):
        before = digest()
        commit(rel, "x = 3\n")
        assert digest() != before, rel
    assert main([str(project)]) == 0
    assert capsys.readouterr().out.strip() == digest()
    ev = Evidence("a", "cpu", seeds=[0, 1, 2])
    ev.add("m", [1.0, 1.1, 0.9])
    ev.judge([], [Claim("C", "c", "m", Constant(0.0, "zero"), central=True)])
    text = write_results(project / "RESULTS.md", ev.to_dict(1.0), "T").read_text()
    assert f", code tree {digest()}" in text
