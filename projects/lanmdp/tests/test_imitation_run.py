"""The MuJoCo profiles through the real entry: smoke end to end, committed files and the
RESULTS.md sections of both committed profiles, bad input, the paper profile."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import torch
from lanmdp import imitation_run
from lanmdp import reproduce as rep
from lanmdp.configs import PROFILES
from lanmdp.dynamics import TransitionModel
from lanmdp.imitation_claims import claims, gates
from lanmdp.latent_policy import StateActionEnergy, act, mle_loss
from lanmdp.reacher import Transitions

from reprokit.claims import validate
from reprokit.config import parse
from reprokit.lifecycle import ReportTarget
from reprokit.report import marked_section
from reprokit.testing import interrupt_python, run_entry

SMOKE = ["--profile", "smoke-mujoco", "--seeds", "0,1,2"]
SRC = str(Path(__file__).resolve().parents[1] / "src")


def exit_code(tmp_path: Path, *args: str) -> int:
    return run_entry(rep.PROG, rep.run, list(args), tmp_path / "runs")


def committed_here(monkeypatch, module, folder: Path) -> None:
    """Make ``module``'s report_target answer "committed" inside ``folder``."""

    def target(*args, **kwargs) -> ReportTarget:
        return ReportTarget(folder, folder / "RESULTS.md", True, "committed (test)")

    monkeypatch.setattr(module, "report_target", target)


@pytest.fixture(scope="module")
def committed_smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """smoke-mujoco written as if committed, into a folder whose RESULTS.md holds a cubic
    report: the mujoco files, the marked section, the cubic report kept."""
    tmp = tmp_path_factory.mktemp("mujoco")
    (tmp / "RESULTS.md").write_text("# lanmdp: CPU-profile results\n\ncubic tables\n")
    with pytest.MonkeyPatch.context() as mp:
        committed_here(mp, imitation_run, tmp)
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert exit_code(tmp, *SMOKE) == 0
    return tmp, out.getvalue()


def test_smoke_mujoco_end_to_end(committed_smoke) -> None:
    """A valid metrics document with every gate and claim, each metric for three seeds, the
    console header, units and footer."""
    tmp, out = committed_smoke
    doc = json.loads((tmp / "mujoco_metrics.json").read_text())
    assert validate(doc, committed=False) == []
    assert [g["id"] for g in doc["gates"]] == [g.id for g in gates()]
    assert [c["id"] for c in doc["claims"]] == [c.id for c in claims()]
    assert not [k for k, m in doc["metrics"].items() if "missing" in m]
    assert doc["metrics"]["return/lanmdp"]["n"] == 3
    assert doc["info"]["interaction_transitions"] == 50 * (4 + 1 * 2)
    assert "== lanmdp · profile smoke-mujoco" in out and "central claim C1" in out
    for unit in ("references", "bco", "lanmdp", "lanmdp_uniform"):
        assert f"-- unit {unit}_seed2" in out


def test_committed_mujoco_run_writes_only_its_section(committed_smoke) -> None:
    tmp, _ = committed_smoke
    text = (tmp / "RESULTS.md").read_text()
    assert text.startswith("# lanmdp: CPU-profile results\n\ncubic tables\n")
    section = marked_section(tmp / "RESULTS.md", imitation_run.MUJOCO)
    assert section is not None and "PROFILE=cpu-mujoco" in section and "| C1 " in section


def test_committed_cubic_run_keeps_the_mujoco_section(committed_smoke, tmp_path, monkeypatch):
    """A rerun of the cubic profile rewrites RESULTS.md and keeps the mujoco section."""
    src, _ = committed_smoke
    section = marked_section(src / "RESULTS.md", imitation_run.MUJOCO)
    (tmp_path / "RESULTS.md").write_text("# old cubic report\n\n" + section + "\n")
    committed_here(monkeypatch, rep, tmp_path)
    args = ["--profile", "smoke", "--seeds", "0", "--plan.enabled", "false"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert exit_code(tmp_path, *args) == 0
    text = (tmp_path / "RESULTS.md").read_text()
    assert "# old cubic report" not in text and "| C1 (central): Non-Markov" in text
    assert marked_section(tmp_path / "RESULTS.md", imitation_run.MUJOCO) == section


def test_sigterm_stops_at_a_round_and_the_rerun_reuses_finished_units(tmp_path, capsys):
    """SIGTERM during LanMDP's unit: exit 143 with one line; the rerun reuses the finished
    units (references, BCO), reruns the interrupted one and writes the report."""
    args = ["--profile", "smoke-mujoco", "--seeds", "0", "--out", str(tmp_path / "o")]
    env = {"REPROKIT_RUNS": str(tmp_path / "runs"), "MUJOCO_GL": "disable"}
    first = interrupt_python("-m", rep.PROG, *args, src=SRC, when="-- unit lanmdp_seed0", env=env)
    assert first.returncode == 143, first.stderr[-2000:]
    assert "rerun the same command to resume" in first.stderr.strip().splitlines()[-1]
    capsys.readouterr()
    assert exit_code(tmp_path, *args) == 0
    out = capsys.readouterr().out
    assert out.count("finished earlier, result reused") == 2 and "-- unit lanmdp_seed0\n" in out
    assert (tmp_path / "o" / "metrics.json").exists()


BAD = [
    (["--seeds", "0,0"], 2, "--seeds: repeated seed"),
    (["--policy.eta_min", "20"], 2, "--policy.eta_min 20.0 exceeds --policy.eta_max"),
    (["--task.demos", "0"], 2, "--task.demos: must be >= 1"),
    (["--policy.n_prior", "1"], 2, "--policy.n_prior: must be >= 2"),
    (["--policy.sigma", "0"], 2, "--policy.sigma: must be > 0"),
    (["--device", "cuda"], 2, "unknown option --device"),
]


@pytest.mark.parametrize(("given", "code", "message"), BAD)
def test_bad_mujoco_input_is_one_line(tmp_path, capsys, given, code, message) -> None:
    got = exit_code(tmp_path, "--profile", "smoke-mujoco", *given, "--out", str(tmp_path / "o"))
    err = capsys.readouterr().err
    assert got == code and message in err.strip().splitlines()[-1], err
    assert "Traceback" not in err and not (tmp_path / "o" / "metrics.json").exists()


def test_paper_mujoco_profile_builds_and_runs_two_steps() -> None:
    """The official MuJoCo defaults (hidden 64 × 4, lr 5e-3, batch 1024, 8 prior samples × 40
    steps, σ 0.1, dynamics 5 × 512, 512 candidates): two MLE steps and one executed action."""
    _, cfg = parse(PROFILES, ["--profile", "paper-mujoco"])
    p, d = cfg.policy, cfg.dynamics
    assert (p.hidden, p.layers, p.lr, p.batch_size, p.n_prior, p.langevin_steps) == (
        64, 4, 5e-3, 1024, 8, 40,
    )  # fmt: skip
    assert (p.sigma, p.noise, p.candidates, d.hidden, d.layers) == (0.1, 0.1, 512, 512, 5)
    torch.manual_seed(0)
    s = torch.randn(p.batch_size, 10)
    data = Transitions(s.numpy(), torch.rand(len(s), 2).numpy() * 2 - 1, (s + 0.1).numpy())
    dyn = TransitionModel(10, 2, d.hidden, d.layers)
    dyn.fit(data, steps=2, batch=256, lr=d.lr)
    energy = StateActionEnergy(s.mean(0), s.std(0), 2, p.hidden, p.layers)
    opt = torch.optim.AdamW(energy.parameters(), lr=p.lr)
    mle, chain = imitation_run.imitation._specs(cfg, uniform=False)
    before = [q.detach().clone() for q in energy.parameters()]
    for _ in range(2):
        loss, diag = mle_loss(energy, dyn, s, s + 0.1, mle, chain)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert diag["a"].shape == (p.batch_size, 8, 2)
    assert all(not torch.equal(a, b) for a, b in zip(before, energy.parameters()))
    assert act(energy, s[:2], p.candidates, chain, p.act_noise).shape == (2, 2)
