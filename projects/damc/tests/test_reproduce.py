"""The entry points: smoke end to end, resume after SIGTERM, bad input, the committed files."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from damc import reproduce as rep
from damc import train as train_mod
from damc.claims import CLAIMS, GATES
from damc.configs import PROFILES
from PIL import Image

from reprokit.claims import validate
from reprokit.config import parse, to_dict
from reprokit.inception import FID_WEIGHTS_SHA256
from reprokit.lifecycle import config_hash
from reprokit.report import claims_table
from reprokit.testing import interrupt_python, run_entry
from reprokit.torch_utils import Checkpointer

PROJECT = Path(__file__).resolve().parents[1]
SRC = str(PROJECT / "src")
SMALL = ["--profile", "smoke", "--seeds", "0,1", "--toy.seeds", "0,1"]  # every unit, two seeds
NO_TOY = ["--profile", "smoke", "--seeds", "0", "--toy.enabled", "false"]


def exit_code(tmp_path: Path, prog: str, *args: str) -> int:
    """An entry point in-process through the real entry() (runs root under tmp_path)."""
    run = rep.run if prog == rep.PROG else train_mod.run
    return run_entry(prog, run, list(args), tmp_path / "runs")


def call(tmp_path: Path, capsys, prog: str, *args: str) -> tuple[int, str, str]:
    """exit_code and what the call printed: (exit code, stdout, stderr)."""
    code = exit_code(tmp_path, prog, *args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def reproduce(tmp_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    return call(tmp_path, capsys, rep.PROG, *args)


def session_dir(tmp_path: Path, *args: str) -> Path:
    """The session folder the lifecycle gives `args` (runs root under tmp_path)."""
    profile, cfg = parse(PROFILES, [a for a in args if a != "--fresh"])
    return tmp_path / "runs" / "damc" / profile / config_hash(cfg)[:12]


def comparable(doc: dict) -> tuple[dict, list, list]:
    """Metrics (wall-clock timings left out), gates and claims of a metrics.json document."""
    metrics = {k: v for k, v in doc["metrics"].items() if "time_s/" not in k}
    return metrics, doc["gates"], doc["claims"]


def report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "o" / "metrics.json").read_text())


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    """One uninterrupted SMALL run: (its metrics.json, stdout, tmp folder)."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    with contextlib.redirect_stdout(io.StringIO()) as out:  # no capsys in a module fixture
        assert exit_code(tmp, rep.PROG, *SMALL, "--out", str(tmp / "o")) == 0
    return json.loads((tmp / "o" / "metrics.json").read_text()), out.getvalue(), tmp


def test_smoke_end_to_end(uninterrupted) -> None:
    """The real entry writes a valid reprokit.metrics/1 document with the declared evidence,
    prints a header, one line per unit and a footer, and keeps its units under the runs root."""
    doc, out, tmp = uninterrupted
    assert validate(doc, committed=False) == []  # two seeds: valid, not committable
    assert [c["id"] for c in doc["claims"]] == [c.id for c in CLAIMS]
    assert [g["id"] for g in doc["gates"]] == [g.id for g in GATES]
    for name in ("toy/arm_err/exact", "toy/arm_err/longrun", "digits/recon_mse/train_mean"):
        assert doc["metrics"][name]["n"] == 2, name
    for fig in ("toy_per_x_posteriors.png", "digits_samples.png", "toy_q_loss.png"):
        assert (tmp / "o" / fig).stat().st_size > 0
    assert claims_table(doc) in (tmp / "o" / "RESULTS.md").read_text()
    assert "== damc · profile smoke" in out and "expected wall time: ~15 s" in out
    assert "-- unit toy-seed1" in out and "-- unit lebm-seed1" in out
    assert "central claim C1" in out and f"wrote {tmp / 'o' / 'metrics.json'}" in out
    units = session_dir(tmp, *SMALL) / "units"
    assert sorted(p.name for p in units.iterdir())[:3] == [
        "baselines-seed0",
        "baselines-seed1",
        "damc-seed0",
    ]
    for unit in ("toy-seed0", "damc-seed1", "lebm-seed0"):
        assert list((units / unit / "checkpoints").glob("ckpt_*.pt")), unit


def test_external_sigterm_then_rerun_equals_an_uninterrupted_run(
    tmp_path, capsys, uninterrupted
) -> None:
    """SIGTERM from outside once unit damc-seed1 starts: exit 143, one line; the rerun reuses
    the finished units and ends with the uninterrupted run's metrics and verdicts."""
    args = [*SMALL, "--out", str(tmp_path / "o")]
    env = {"REPROKIT_RUNS": str(tmp_path / "runs")}
    first = interrupt_python(
        "-m", "damc.reproduce", *args, src=SRC, when="-- unit damc-seed1", env=env
    )
    assert first.returncode == 143, first.stderr[-2000:]
    last = first.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{rep.PROG}: interrupted by SIGTERM") and "rerun the same" in last
    assert "Traceback" not in first.stderr
    state = json.loads((session_dir(tmp_path, *args) / "session.json").read_text())
    assert state["status"] == "interrupted" and state["units"]["toy-seed1"] == "finished"
    assert not (tmp_path / "o" / "metrics.json").exists()
    code, out, err = reproduce(tmp_path, capsys, *args)
    assert code == 0, err
    assert "-- unit damc-seed0: finished earlier, result reused" in out
    assert comparable(report(tmp_path)) == comparable(uninterrupted[0])


def _sigterm_on_call(monkeypatch, module, name: str, at: int) -> list:
    """Patch ``module.name`` to send SIGTERM during call number ``at``; the calls' first
    arguments' ``iteration`` (a Learner's, at call time) are recorded."""
    real, calls = getattr(module, name), []

    def patched(*a, **kw):
        calls.append(getattr(a[0], "iteration", None))
        if len(calls) == at:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*a, **kw)

    monkeypatch.setattr(module, name, patched)
    return calls


@pytest.mark.parametrize(
    ("where", "unit", "nth"),
    [
        ("damc", "damc-seed1", 12),  # damc-, lebm- (3 steps), lebm_long-seed0 (5) came first
        ("toy", "toy-seed1", 4),  # toy-seed0 made 3 EMA updates: the 1st iteration of toy-seed1
    ],
)
def test_stop_mid_unit_resumes_from_its_checkpoint(
    tmp_path, capsys, monkeypatch, uninterrupted, where, unit, nth
) -> None:
    """SIGTERM during iteration 1 of a unit: the boundary writes a checkpoint of iteration 1
    (off the every-2 schedule); the rerun continues there and ends with identical metrics."""
    import damc.toy as toy_mod

    module, name = (train_mod, "train_step") if where == "damc" else (toy_mod, "ema_update")
    calls = _sigterm_on_call(monkeypatch, module, name, nth)
    args = [*SMALL, "--out", str(tmp_path / "o")]
    code, _, err = reproduce(tmp_path, capsys, *args)
    assert code == 143, err
    stop = f"{rep.PROG}: interrupted by SIGTERM at {where} seed 1 iteration 1; rerun the same"
    assert err.strip().splitlines()[-1].startswith(stop), err
    ckpts = session_dir(tmp_path, *args) / "units" / unit / "checkpoints"
    assert Checkpointer(ckpts).latest()["step"] == 1
    calls.clear()
    code, out, err = reproduce(tmp_path, capsys, *args)
    assert code == 0, err
    assert f"-- unit {unit}\n" in out and f"-- unit {where}-seed0: finished earlier" in out
    if where == "damc":
        assert calls[:2] == [1, 2]  # resumed at iteration 1, not 0
    assert comparable(report(tmp_path)) == comparable(uninterrupted[0])


def test_fresh_starts_over(tmp_path, capsys) -> None:
    args = [*NO_TOY, "--methods", "lebm", "--out", str(tmp_path / "o")]
    assert reproduce(tmp_path, capsys, *args)[0] == 0
    code, out, _ = reproduce(tmp_path, capsys, *args)
    assert code == 0 and "-- unit lebm-seed0: finished earlier, result reused" in out
    code, out, _ = reproduce(tmp_path, capsys, *args, "--fresh")
    assert code == 0 and "reused" not in out and "-- unit lebm-seed0" in out


def test_method_subset_leaves_dependent_claims_untestable(tmp_path, capsys) -> None:
    """--methods damc is supported: the claims and gates that need LEBM are untestable."""
    code, out, err = reproduce(
        tmp_path, capsys, *NO_TOY, "--methods", "damc", "--out", str(tmp_path / "o")
    )
    assert code == 0, err
    doc = report(tmp_path)
    verdicts = {c["id"]: c["verdict"] for c in doc["claims"]}
    assert set(verdicts.values()) == {"untestable"}
    assert doc["metrics"]["digits/recon_mse/lebm"]["missing"]
    assert "-- unit lebm" not in out and "central claim C1: untestable" in out


# -- bad input ----------------------------------------------------------------------------------
def images(tmp_path: Path, n: int = 4, size: int = 32) -> list[str]:
    """A folder of black PNGs; the arguments that train on it (the image-folder conv nets)."""
    folder = tmp_path / "img"
    folder.mkdir(exist_ok=True)
    for i in range(n):
        Image.fromarray(np.zeros((size, size, 3), np.uint8)).save(folder / f"{i}.png")
    args = ["--data.dataset", "image_folder", "--data.size", "32", "--data.path", str(folder)]
    return [*args, "--toy.enabled", "false", "--model.ngf", "4", "--diffusion.nif", "4"]


def corrupt_image(tmp_path: Path) -> list[str]:
    args = images(tmp_path)
    (tmp_path / "img" / "0.png").write_bytes(b"not a png")
    return args


def weights(tmp_path: Path, content: bytes | None) -> list[str]:
    """Inception weights for an image-folder run: a file with ``content`` (None: no file)."""
    path = tmp_path / "pt_inception.pth"
    if content is not None:
        path.write_bytes(content)
    return [*images(tmp_path), "--eval.inception_path", str(path)]


def unit_checkpoints(tmp_path: Path, unit: str = "damc-seed0") -> Path:
    """The checkpoint folder of a unit of the NO_TOY session (created empty)."""
    folder = session_dir(tmp_path, *NO_TOY) / "units" / unit / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def corrupt_checkpoint(tmp_path: Path) -> list[str]:
    (unit_checkpoints(tmp_path) / "ckpt_000000002.pt").write_bytes(b"garbage")
    return NO_TOY


def foreign_checkpoint(tmp_path: Path) -> list[str]:
    """A checkpoint of a bigger model (model.nz 8) in this unit's folder."""
    _, other = parse(PROFILES, [*NO_TOY, "--model.nz", "8"])
    Checkpointer(unit_checkpoints(tmp_path), config=to_dict(other)).save(2, {"models": {}})
    return NO_TOY


def corrupt_session(tmp_path: Path) -> list[str]:
    folder = session_dir(tmp_path, *NO_TOY)
    folder.mkdir(parents=True)
    (folder / "session.json").write_text("{")
    return NO_TOY


def corrupt_unit_result(tmp_path: Path) -> list[str]:
    folder = session_dir(tmp_path, *NO_TOY)
    unit_checkpoints(tmp_path, "baselines-seed0")
    (folder / "units" / "baselines-seed0" / "result.json").write_text("{")
    _, cfg = parse(PROFILES, NO_TOY)
    state = {"config_hash": config_hash(cfg), "units": {"baselines-seed0": "finished"}}
    (folder / "session.json").write_text(json.dumps(state))
    return NO_TOY


def train_then(tmp_path: Path, *change: str) -> list[str]:
    """damc.train once (tiny, lebm) into tmp/ck, then the arguments of a rerun with ``change``."""
    args = [*NO_TOY, "--methods", "lebm", "--out", str(tmp_path / "ck")]
    assert exit_code(tmp_path, "damc.train", *args) == 0
    return [*args, *change]


def train_corrupt(tmp_path: Path) -> list[str]:
    args = train_then(tmp_path)
    for p in (tmp_path / "ck" / "lebm-seed0").glob("ckpt_*.pt"):
        p.write_bytes(b"garbage")
    return args


NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
R, T = rep.PROG, "damc.train"
BAD = [
    # (entry point, arguments or a setup that returns them, exit code, message)
    (R, ["--bogus", "1"], 2, "unknown option --bogus"),
    (R, ["--train.iterations", "abc"], 2, "--train.iterations"),
    (R, ["--train.iterations", "0"], 2, "--train.iterations: must be >= 1"),
    (R, ["--optim.g_lr", "inf"], 2, "--optim.g_lr: must be a finite number"),
    (R, ["--langevin.sigma", "nan"], 2, "--langevin.sigma: must be a finite number"),
    (R, ["--langevin.sigma", "-1"], 2, "--langevin.sigma: must be > 0"),
    (R, ["--profile", "huge"], 2, "huge"),
    (R, ["--seeds", ""], 2, "--seeds: must not be empty"),
    (R, ["--methods", ""], 2, "--methods: must not be empty"),
    (R, ["--methods", "damc,sgld"], 2, "--methods: invalid choice 'sgld'"),
    (R, ["--seeds", "0,0"], 2, "--seeds: [0, 0] repeats a value"),
    pytest.param(R, ["--device", "cuda"], 2, "--device cuda: no CUDA device", marks=NO_CUDA),
    (R, ["--data.size", "12"], 2, "--data.size 12: digits come in sizes (8, 16, 32) only"),
    (R, lambda t: [*images(t), "--data.size", "16"], 2, "--data.size 16: the image-folder"),
    (
        R,
        ["--data.dataset", "image_folder", "--data.size", "32"],
        2,
        "image_folder needs --data.path DIR",
    ),
    (R, lambda t: images(t, n=0), 2, "img"),
    (R, lambda t: [*images(t), "--data.path", str(t / "nope")], 2, "nope"),
    (R, corrupt_image, 2, "0.png"),
    (R, lambda t: images(t, n=1), 2, "0 training images"),
    (R, ["--eval.inception_path", "w.pth"], 2, "only used with --data.dataset image_folder"),
    (R, lambda t: weights(t, None), 2, "pt_inception.pth does not exist"),
    (R, lambda t: weights(t, b"wrong"), 2, f"expected {FID_WEIGHTS_SHA256[:12]}"),
    (R, corrupt_checkpoint, 2, "no readable checkpoint in"),
    (R, foreign_checkpoint, 2, "by another config (differs in model.nz 8 vs 4)"),
    (R, corrupt_session, 2, "session.json is corrupt; rerun with --fresh"),
    (R, corrupt_unit_result, 2, "baselines-seed0 is unreadable"),
    (R, [*NO_TOY, "--optim.e_lr", "1e30"], 1, "diverged: damc losses are not finite at iter"),
    (T, ["--seeds", ""], 2, "--seeds: must not be empty"),
    pytest.param(T, ["--device", "cuda"], 2, "--device cuda: no CUDA device", marks=NO_CUDA),
    (T, lambda t: train_then(t, "--model.nz", "8"), 2, "another config (differs in model.nz"),
    (T, train_corrupt, 2, "no readable checkpoint in"),
]


@pytest.mark.parametrize(("prog", "given", "code", "message"), BAD)
def test_bad_input_is_one_line(tmp_path, capsys, prog, given, code, message) -> None:
    """Each row: exit code and one line naming the problem, no traceback, no report."""
    args = given(tmp_path) if callable(given) else ["--profile", "smoke", *given]
    capsys.readouterr()  # what a setup printed
    out = [] if prog == T else ["--out", str(tmp_path / "o")]
    got, _, err = call(tmp_path, capsys, prog, *args, *out)
    lines = err.strip().splitlines()
    assert got == code and message in lines[-1], err
    assert "Traceback" not in err and not (tmp_path / "o" / "metrics.json").exists()
    if code == 2:  # refused before the first training step (no progress bar on stderr)
        assert len(lines) == 1, err


def test_divergence_keeps_the_last_good_checkpoint(tmp_path, capsys) -> None:
    args = [*NO_TOY, "--optim.e_lr", "1e30", "--train.ckpt_every", "1"]
    code, _, err = reproduce(tmp_path, capsys, *args, "--out", str(tmp_path / "o"))
    assert code == 1 and "ckpt_000000001.pt (iteration 1) is kept" in err.splitlines()[-1]
    folder = session_dir(tmp_path, *args)
    assert json.loads((folder / "session.json").read_text())["status"] == "diverged"
    ckpt = Checkpointer(folder / "units" / "damc-seed0" / "checkpoints")
    assert ckpt.latest()["step"] == 1  # really kept


def test_overridden_cpu_run_leaves_the_committed_results_alone(tmp_path, capsys) -> None:
    """A tiny one-seed cpu run with overrides writes its report into its run folder only."""
    committed = [PROJECT / "RESULTS.md", *sorted((PROJECT / "results" / "cpu").glob("*.*"))]
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in committed}
    args = ["--profile", "cpu", "--seeds", "0", "--train.iterations", "2", "--eval.n_gen", "64"]
    args += ["--train.lebm_long_iterations", "2", "--toy.seeds", "0"]
    args += ["--toy.iterations", "2", "--toy.longrun_steps", "2", "--toy.n_eval", "16"]
    args += ["--toy.per_x_obs", "2", "--eval.ebm_gen_steps", "2"]
    code, out, err = reproduce(tmp_path, capsys, *args)
    assert code == 0, err
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in committed} == before
    target = session_dir(tmp_path, *args) / "report"
    assert "overrides given" in out and f"wrote {target / 'RESULTS.md'}" in out
    assert json.loads((target / "metrics.json").read_text())["seeds"] == [0]


def test_train_entry_resumes_and_fresh_starts_over(tmp_path, capsys) -> None:
    """damc.train: the same command again loads the finished checkpoint (same test MSE, no
    iteration); --fresh trains again from iteration 0."""
    args = [*NO_TOY, "--methods", "lebm", "--out", str(tmp_path / "ck")]
    code, first, err = call(tmp_path, capsys, T, *args)
    assert code == 0 and "[lebm] it 0 " in first, err
    code, again, err = call(tmp_path, capsys, T, *args)
    assert code == 0 and "[lebm] it" not in again, err
    mse = [line for line in first.splitlines() if "test recon MSE" in line]
    assert mse and mse == [line for line in again.splitlines() if "test recon MSE" in line]
    code, fresh, err = call(tmp_path, capsys, T, *args, "--fresh")
    assert code == 0 and "[lebm] it 0 " in fresh, err
