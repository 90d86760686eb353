"""The diagnosis of executed vs teacher-forced behaviour (``python -m lanmdp.diagnose``)."""

from __future__ import annotations

import contextlib
import io

from lanmdp import diagnose
from lanmdp import reproduce as rep

from reprokit.testing import run_entry

SHORT = ["--profile", "smoke", "--seeds", "0", "--plan.enabled", "false"]


def test_diagnosis_reads_the_finished_run(tmp_path, capsys) -> None:
    """After a reproduce run: the tolerance table (the test survives small action noise and
    fails large) and one row per (seed, L) member with every read-out."""
    with contextlib.redirect_stdout(io.StringIO()):
        assert run_entry(rep.PROG, rep.run, [*SHORT, "--out", str(tmp_path / "o")], tmp_path) == 0
    assert run_entry(diagnose.PROG, diagnose.run, SHORT, tmp_path) == 0
    out = capsys.readouterr().out
    tolerance = [r.split("|") for r in out.splitlines() if r.startswith("| 0.0")]
    valid = [float(r[3]) for r in tolerance]
    assert len(valid) == len(diagnose.NOISE_STDS) and valid[0] == 1.0 and valid[-1] < valid[0]
    members = [r for r in out.splitlines() if r.startswith("| 0 | ")]
    assert [int(r.split("|")[2]) for r in members] == [1, 2, 4, 6]
    assert all(len(r.split("|")) == 10 for r in members)


def test_diagnosis_without_a_run_is_one_line(tmp_path, capsys) -> None:
    assert run_entry(diagnose.PROG, diagnose.run, SHORT, tmp_path) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "no finished LanMDP unit" in lines[0]
