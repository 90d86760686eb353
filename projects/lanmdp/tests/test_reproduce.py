"""The entry point: smoke end to end, resume after SIGTERM, bad input, the paper profile."""

from __future__ import annotations

import contextlib
import io
import json
import signal
from pathlib import Path

import pytest
import torch
from lanmdp import experiment
from lanmdp import reproduce as rep
from lanmdp.claims import claims, gates
from lanmdp.configs import PROFILES
from lanmdp.model import RegressionPolicy
from lanmdp.train import train_energy, train_regression

from reprokit.claims import validate
from reprokit.config import parse, to_dict
from reprokit.lifecycle import Interrupted, config_hash
from reprokit.report import claims_table
from reprokit.testing import interrupt_python, run_entry
from reprokit.torch_utils import Checkpointer

PROJECT = Path(__file__).resolve().parents[1]
SRC = str(PROJECT / "src")
SMOKE = ["--profile", "smoke"]
SHORT = [*SMOKE, "--seeds", "0", "--plan.enabled", "false", "--train.iterations", "80"]


def exit_code(tmp_path: Path, *args: str) -> int:
    """The real entry() in-process (runs root under tmp_path)."""
    return run_entry(rep.PROG, rep.run, list(args), tmp_path / "runs")


def session_dir(tmp_path: Path, *args: str) -> Path:
    profile, cfg = parse(PROFILES, list(args))
    return tmp_path / "runs" / "lanmdp" / profile / config_hash(cfg)[:12]


def comparable(doc: dict) -> tuple[dict, list, list]:
    """Metrics without wall-clock timings, gates and claims of a metrics.json document."""
    metrics = {k: v for k, v in doc["metrics"].items() if "time_s" not in k}
    return metrics, doc["gates"], doc["claims"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    tmp = tmp_path_factory.mktemp("smoke")
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert exit_code(tmp, *SMOKE, "--out", str(tmp / "o")) == 0
    return json.loads((tmp / "o" / "metrics.json").read_text()), out.getvalue(), tmp


def test_smoke_end_to_end(smoke_run) -> None:
    """A valid reprokit.metrics/1 document with every declared gate and claim, every metric
    measured for the three seeds, the figures and the console header/units/footer."""
    doc, out, tmp = smoke_run
    assert validate(doc, committed=False) == []
    assert [g["id"] for g in doc["gates"]] == [g.id for g in gates(6)]
    assert [c["id"] for c in doc["claims"]] == [c.id for c in claims(6)]
    assert not [k for k, m in doc["metrics"].items() if "missing" in m]
    assert doc["metrics"]["valid/lanmdp_L4"]["n"] == 3
    assert claims_table(doc) in (tmp / "o" / "RESULTS.md").read_text()
    for fig in ("paths.png", "loss.png"):
        assert (tmp / "o" / fig).stat().st_size > 0
    assert "== lanmdp · profile smoke" in out and "central claim C1" in out
    for unit in ("references", "regression", "lanmdp", "planning"):
        assert f"-- unit {unit}" in out
    assert doc["info"]["planning"]["alpha"] in PROFILES["smoke"]().plan.alphas


def test_rerun_reuses_every_unit(smoke_run, capsys) -> None:
    doc, _, tmp = smoke_run
    assert exit_code(tmp, *SMOKE, "--out", str(tmp / "o2")) == 0
    out = capsys.readouterr().out
    assert out.count("finished earlier, result reused") == 4
    again = json.loads((tmp / "o2" / "metrics.json").read_text())
    assert comparable(again) == comparable(doc)


def test_sigterm_then_rerun_equals_an_uninterrupted_run(tmp_path, capsys) -> None:
    """SIGTERM once LanMDP's training starts: exit 143 with one line; the rerun resumes from the
    checkpoint and ends with the numbers of an uninterrupted run (the same command with
    --fresh, which starts over: no unit reused)."""
    args = [*SHORT, "--out", str(tmp_path / "o")]
    env = {"REPROKIT_RUNS": str(tmp_path / "runs")}
    first = interrupt_python("-m", rep.PROG, *args, src=SRC, when="-- unit lanmdp", env=env)
    assert first.returncode == 143, first.stderr[-2000:]
    assert "rerun the same command to resume" in first.stderr.strip().splitlines()[-1]
    ckpts = session_dir(tmp_path, *SHORT) / "units" / "lanmdp" / "checkpoints"
    assert list(ckpts.glob("ckpt_*.pt"))
    capsys.readouterr()
    assert exit_code(tmp_path, *args) == 0
    assert "finished earlier, result reused" in capsys.readouterr().out
    resumed = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert exit_code(tmp_path, *args, "--fresh") == 0
    assert "finished earlier" not in capsys.readouterr().out
    straight = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert comparable(resumed) == comparable(straight)


def foreign_checkpoint(tmp_path: Path) -> list[str]:
    """A checkpoint of another config (hidden 8) in the LanMDP unit's folder."""
    args = [*SMOKE, "--seeds", "0"]
    _, other = parse(PROFILES, [*args, "--model.hidden", "8"])
    folder = session_dir(tmp_path, *args) / "units" / "lanmdp" / "checkpoints"
    Checkpointer(folder, config=to_dict(other)).save(2, {"model": {}})
    return args


NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
BAD = [
    (["--bogus", "1"], 2, "unknown option --bogus"),
    (["--train.iterations", "0"], 2, "--train.iterations: must be >= 1"),
    (["--train.lr", "nan"], 2, "--train.lr: must be a finite number"),
    (["--train.sigma", "-1"], 2, "--train.sigma: must be > 0"),
    (["--plan.start", "25"], 2, "--plan.start"),
    (["--profile", "huge"], 2, "huge"),
    (["--seeds", ""], 2, "--seeds: must not be empty"),
    (["--seeds", "0,0"], 2, "--seeds: repeated seed"),
    (["--model.context_lengths", "2,6"], 2, "distinct lengths including 1"),
    (["--model.context_lengths", "1,30"], 2, "at most 20"),
    pytest.param(["--device", "cuda"], 2, "--device cuda: no CUDA device", marks=NO_CUDA),
    (foreign_checkpoint, 2, "by another config (differs in model.hidden"),
    (["--seeds", "0", "--train.lr", "1e30"], 1, "diverged"),
]


@pytest.mark.parametrize(("given", "code", "message"), BAD)
def test_bad_input_is_one_line(tmp_path, capsys, given, code, message) -> None:
    """Each row: exit code and one line naming the problem, no traceback, no report."""
    args = given(tmp_path) if callable(given) else [*SMOKE, *given]
    got = exit_code(tmp_path, *args, "--out", str(tmp_path / "o"))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert got == code and message in lines[-1], err
    assert "Traceback" not in err and not (tmp_path / "o" / "metrics.json").exists()


def test_paper_profile_builds_and_runs_two_steps(tmp_path) -> None:
    """The official cubic configuration: width 24 for every L, lr 1e-4, variance 0.1."""
    _, cfg = parse(PROFILES, ["--profile", "paper", "--device", "cpu", "--seeds", "0"])
    assert cfg.model.hidden == 24 and cfg.train.lr == 1e-4 and cfg.train.iterations == 30_000
    assert abs(cfg.train.sigma**2 - 0.1) < 1e-12 and cfg.train.n_prior == 4
    ens, model = experiment.build_energy(cfg, torch.device("cpu"))
    assert model.lengths == [1, 2, 4, 6]
    tc, spec = experiment.energy_training(cfg)
    before = [p.detach().clone() for p in model.parameters()]
    out = train_energy(
        model, ens.windows, tc.__class__(**{**tc.__dict__, "iterations": 2}), spec,
        tmp_path, to_dict(cfg), lambda *a, **k: None, lambda w, s: None, lambda r, **k: r,
    )  # fmt: skip
    assert out["post_ratio"].shape == (4,)
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_regression_stops_at_a_step_boundary() -> None:
    """A stop request ends the regression reference's loop at the next step (clean stops)."""
    _, cfg = parse(PROFILES, [*SMOKE, "--seeds", "0"])
    ens = experiment.Ensemble(cfg, (1, 6), torch.device("cpu"))
    model = RegressionPolicy(ens.lengths, 8)
    tc, _ = experiment.energy_training(cfg)
    seen: list[str] = []

    def boundary(where: str, save) -> None:
        seen.append(where)
        if len(seen) == 3:
            raise Interrupted(where, signal.SIGTERM)

    with pytest.raises(Interrupted):
        train_regression(model, ens.windows, tc, lambda r, **k: r, boundary)
    assert seen[-1] == "at regression iteration 3"
