"""The real entry point: smoke end to end, SIGTERM + rerun, bad input, committed files, paper."""

from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from alans import reporting, reproduce
from alans.claims import SPLITS, claims, evidence, gates
from alans.configs import PROFILES
from alans.model import ALANS
from alans.train import Loop, fit

from reprokit.claims import validate
from reprokit.config import parse, to_dict
from reprokit.errors import DivergenceError
from reprokit.lifecycle import ReportTarget, config_hash
from reprokit.report import marked_section, section_markers
from reprokit.testing import interrupt_python, run_entry
from reprokit.torch_utils import Checkpointer

SRC = str(Path(__file__).resolve().parents[1] / "src")
PROJECT = Path(__file__).resolve().parents[1]
FIGURES = ("tierA_accuracy.png", "answer_generation.png", "example_problem.png", "value_norms.png")


def _reproduce(runs: Path, capsys, *args: str) -> tuple[int, str, str]:
    """``python -m alans.reproduce ARGS`` in-process, runs under ``runs``: (code, out, err)."""
    code = run_entry(reproduce.PROG, reproduce.run, list(args), runs)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _session_dir(runs: Path, *args: str) -> Path:
    profile, cfg = parse(PROFILES, list(args))
    return runs / "alans" / profile / config_hash(cfg)[:12]


def _state(runs: Path, *args: str) -> dict:
    return json.loads((_session_dir(runs, *args) / "session.json").read_text())


def _same_units(a: Path, b: Path) -> None:
    """Every unit's stored result (loss curves included) is identical in two run folders."""
    (sa,), (sb,) = (list((r / "alans" / "smoke").iterdir()) for r in (a, b))
    names = sorted(p.name for p in (sa / "units").iterdir())
    assert names == sorted(p.name for p in (sb / "units").iterdir()) and len(names) == 13
    for name in names:
        ua, ub = sa / "units" / name, sb / "units" / name
        assert (ua / "result.json").read_text() == (ub / "result.json").read_text(), name
        with np.load(ua / "arrays.npz") as za, np.load(ub / "arrays.npz") as zb:
            assert all(np.array_equal(za[k], zb[k]) for k in za.files), name


def _judged(path: Path) -> dict:
    doc = json.loads(path.read_text())
    return {"metrics": doc["metrics"], "claims": doc["claims"], "gates": doc["gates"]}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted smoke run; its folder (report in ``r/``, runs root ``runs/``)."""
    base = tmp_path_factory.mktemp("reference")
    args = ["--profile", "smoke", "--out", str(base / "r")]
    assert run_entry(reproduce.PROG, reproduce.run, args, base / "runs") == 0
    return base


def test_smoke_profile_end_to_end(reference):
    reference = reference / "r"
    saved = json.loads((reference / "metrics.json").read_text())
    assert validate(saved) == [] and saved["profile"] == "smoke"
    baselines = PROFILES["smoke"]().tier_a.baselines
    grid = {"productivity": "mlp"}
    assert [c["id"] for c in saved["claims"]] == [
        c.id for c in claims({}, grid="grid3x3", grid_strongest=grid)
    ]
    assert [g["id"] for g in saved["gates"]] == [
        g.id for g in gates(baselines, "grid3x3", list(grid))
    ]
    assert saved["info"]["grid"]["config"] == "grid3x3"
    assert set(saved["info"]["grid"]["strongest"]) == {"productivity"}
    c14 = {c["id"]: c for c in saved["claims"]}["C14"]  # the Grid claim (issue 17 item 5)
    assert c14["metric"] == "grid3x3/productivity/alans/test_acc"
    assert c14["gates"][1] == "G-g3-prod-alans"
    assert saved["metrics"]["grid3x3/productivity/alans_untrained/test_acc"]["n"] == 3
    assert set(saved["info"]["strongest"]) == set(SPLITS)
    assert set(saved["info"]["strongest"].values()) <= set(baselines)
    for b in baselines:
        assert saved["metrics"][f"tierA/productivity/{b}/iid_acc"]["n"] == 3
    assert saved["metrics"]["tierA/systematicity/alans/test_acc"]["n"] == 3
    assert saved["metrics"]["tierB/systematicity/scl/iid_acc"]["seeds"] == [0]
    assert saved["metrics"]["tierB/systematicity/alans/test_acc"]["seeds"] == [0]
    assert "answer generation" in reporting.notes(saved).lower()
    text = (reference / "RESULTS.md").read_text()
    assert "C1" in text and "python -m alans.reproduce --profile smoke --out" in text
    for f in FIGURES:
        assert (reference / f).stat().st_size > 1000


def test_sigterm_mid_loop_then_rerun_equals_an_uninterrupted_run(reference, tmp_path, capsys):
    """SIGTERM at step 2 of ALANS-Ind (productivity, seed 0): the ALANS fit of that unit is done,
    the MLP not started; the rerun reuses 3 units, resumes this one and matches bit for bit."""
    args = ("--profile", "smoke", "--out", str(tmp_path / "r"))
    done = Loop.done

    def done_then_signal(self, step, *a):
        if self.name == "tierA-productivity-seed0/alans_ind" and step == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return done(self, step, *a)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Loop, "done", done_then_signal)
        code, _, err = _reproduce(tmp_path / "runs", capsys, *args)
    assert code == 143, err
    last = err.strip().splitlines()[-1]
    assert "interrupted by SIGTERM at tierA-productivity-seed0/alans_ind step 2" in last
    assert "rerun the same command to resume" in last and "Traceback" not in err
    state = _state(tmp_path / "runs", *args)
    assert state["status"] == "interrupted"
    assert state["units"]["tierA-productivity-seed0"] == "running"
    unit = _session_dir(tmp_path / "runs", *args) / "units" / "tierA-productivity-seed0"
    assert Checkpointer(unit / "checkpoints" / "alans_ind").latest()["step"] == 2

    code, out, err = _reproduce(tmp_path / "runs", capsys, *args)
    assert code == 0, err
    assert "-- unit tierA-systematicity-seed2: finished earlier, result reused" in out
    assert "resuming: 3 finished unit(s) reused" in out
    assert _judged(tmp_path / "r" / "metrics.json") == _judged(reference / "r" / "metrics.json")
    _same_units(tmp_path / "runs", reference / "runs")
    assert _state(tmp_path / "runs", *args)["status"] == "finished"


def test_external_sigterm_then_rerun_equals_an_uninterrupted_run(reference, tmp_path, capsys):
    args = ("--profile", "smoke", "--out", str(tmp_path / "r"))
    env = {"REPROKIT_RUNS": str(tmp_path / "runs")}
    first = interrupt_python(
        "-m", "alans.reproduce", *args, src=SRC, when="-- unit tierA-localism-seed0", env=env
    )
    assert first.returncode == 143, first.stderr
    last = first.stderr.strip().splitlines()[-1]
    assert "interrupted by SIGTERM" in last and "rerun the same command" in last
    assert _state(tmp_path / "runs", *args)["status"] == "interrupted"
    code, out, err = _reproduce(tmp_path / "runs", capsys, *args)
    assert code == 0, err
    assert "-- unit tierA-systematicity-seed0: finished earlier, result reused" in out
    assert _judged(tmp_path / "r" / "metrics.json") == _judged(reference / "r" / "metrics.json")
    _same_units(tmp_path / "runs", reference / "runs")


def test_fresh_starts_over(reference, tmp_path, capsys):
    args = ("--profile", "smoke", "--tier_b.enabled", "false", "--tier_a.splits", "localism")
    args += ("--grid.enabled", "false", "--out", str(tmp_path / "r"))
    assert _reproduce(tmp_path / "runs", capsys, *args)[0] == 0
    code, out, _ = _reproduce(tmp_path / "runs", capsys, *args)
    assert code == 0 and out.count("finished earlier, result reused") == 3
    code, out, _ = _reproduce(tmp_path / "runs", capsys, *args, "--fresh")
    assert code == 0 and "reused" not in out


def _unit_ckpts(runs: Path, args: tuple[str, ...]) -> Path:
    unit = _session_dir(runs, *args) / "units" / "tierA-systematicity-seed0"
    return unit / "checkpoints" / "alans"


def _corrupt_checkpoint(runs: Path, args: tuple[str, ...]) -> None:
    d = _unit_ckpts(runs, args)
    d.mkdir(parents=True)
    (d / "ckpt_000000001.pt").write_bytes(b"not a checkpoint")


def _foreign_checkpoint(runs: Path, args: tuple[str, ...]) -> None:
    theirs = {**to_dict(parse(PROFILES, list(args))[1]), "x": 1}
    Checkpointer(_unit_ckpts(runs, args), config=theirs).save(1, {"model": {}})


def _misfit_checkpoint(runs: Path, args: tuple[str, ...]) -> None:
    cfg = parse(PROFILES, list(args))[1]
    model = torch.nn.Linear(3, 2)
    Checkpointer(_unit_ckpts(runs, args), config=to_dict(cfg)).save(
        1, {"model": model.state_dict()}
    )


def _corrupt_session(runs: Path, args: tuple[str, ...]) -> None:
    d = _session_dir(runs, *args)
    d.mkdir(parents=True)
    (d / "session.json").write_text("{ not json")


def _no_data_folder(runs: Path, args: tuple[str, ...]) -> None:
    (runs.parent / "a_file").write_text("")
    os.environ["REPROKIT_DATA"] = str(runs.parent / "a_file" / "data")


NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
NAN, SINGULAR = "loss is nan at step", "a ridge solve met a singular matrix at step"
TIER_B_HUGE_LR = ("--tier_b.lr", "1e9", "--tier_b.backend_lr", "1e9")
BAD_INPUT = [
    # (arguments, setup, exit code, message)
    (["--bogus", "1"], None, 2, "--bogus"),
    (["--tier_a.steps", "abc"], None, 2, "--tier_a.steps: expected an integer"),
    (["--tier_a.steps", "-3"], None, 2, "--tier_a.steps"),
    (["--tier_a.lr", "inf"], None, 2, "--tier_a.lr: must be a finite number"),
    (["--alans.pred_scale", "nan"], None, 2, "--alans.pred_scale: must be a finite number"),
    (["--data.config", "distribute_nine"], None, 2, "invalid choice 'distribute_nine'"),
    (["--tier_b.split", "nope"], None, 2, "invalid choice 'nope'"),
    (["--tier_a.splits", "systematicity,compositionality"], None, 2, "unknown split"),
    (["--tier_a.splits", ""], None, 2, "--tier_a.splits: must not be empty"),
    (["--grid.splits", "productivity,nope"], None, 2, "--grid.splits: unknown split 'nope'"),
    (["--grid.config", "center"], None, 2, "invalid choice 'center'"),
    (["--grid.n_train", "4"], None, 2, "--grid.n_train"),
    (["--seeds", ""], None, 2, "--seeds: must not be empty"),
    (["--tier_b.seeds", ""], None, 2, "--tier_b.seeds: must not be empty"),
    (["--seeds", "1,1"], None, 2, "--seeds: seed 1 is given twice"),
    (["--tier_a.baselines", "mlp,wren"], None, 2, "--tier_a.baselines: unknown baseline 'wren'"),
    (["--tier_a.baselines", "mlp,mlp"], None, 2, "--tier_a.baselines: 'mlp' is given twice"),
    (["--tier_a.baselines", ""], None, 2, "--tier_a.baselines: must not be empty"),
    (
        ["--tier_a.enabled", "false", "--grid.enabled", "false", "--tier_b.enabled", "false"],
        None,
        2,
        "nothing to run",
    ),
    (["--tier_b.warmup_problems", "33"], None, 2, "exceeds --tier_b.n_train 32"),
    pytest.param(["--device", "cuda"], None, 2, "no CUDA device", marks=NO_CUDA),
    (["--device", "tpu"], None, 2, "--device 'tpu': use auto, cpu"),
    ([], _no_data_folder, 2, "data folder"),
    ([], _corrupt_session, 2, "is corrupt; rerun with --fresh"),
    ([], _corrupt_checkpoint, 2, "no readable checkpoint"),
    ([], _foreign_checkpoint, 2, "was written by another config (differs in x"),
    ([], _misfit_checkpoint, 2, "does not fit this model"),
    (["--tier_a.lr", "1e3", "--tier_b.enabled", "false"], None, 1, SINGULAR),
    (
        [*("--tier_a.enabled", "false", "--grid.enabled", "false"), *TIER_B_HUGE_LR],
        None,
        1,
        NAN,
    ),
]


@pytest.mark.parametrize(("args", "setup", "code", "message"), BAD_INPUT)
def test_bad_input_is_one_line(tmp_path, capsys, monkeypatch, args, setup, code, message):
    args = ("--profile", "smoke", *args, "--out", str(tmp_path / "r"))
    monkeypatch.setenv("REPROKIT_DATA", os.environ["REPROKIT_DATA"])  # restored afterwards
    if setup is not None:
        setup(tmp_path / "runs", args)
    got, _, err = _reproduce(tmp_path / "runs", capsys, *args)
    lines = err.strip().splitlines()
    assert got == code and message in lines[-1] and "Traceback" not in err, err
    assert lines[-1].startswith("alans.reproduce: " + ("error" if code == 2 else "diverged"))
    if code == 2 and setup is None:
        assert len(lines) == 1 and not (tmp_path / "runs").exists()  # refused before compute
    if code == 1:
        assert _state(tmp_path / "runs", *args)["status"] == "diverged"


def test_divergence_keeps_the_last_good_checkpoint(tmp_path, capsys):
    args = ("--profile", "smoke", "--tier_a.lr", "1e3", "--tier_b.enabled", "false")
    args += ("--ckpt_every", "1", "--out", str(tmp_path / "r"))
    code, _, err = _reproduce(tmp_path / "runs", capsys, *args)
    kept = _unit_ckpts(tmp_path / "runs", args) / "ckpt_000000001.pt"
    assert code == 1 and f"the last good checkpoint {kept} (step 1) is kept" in err
    assert Checkpointer(kept.parent).latest()["step"] == 1


def _committed() -> dict[str, str]:
    files = [PROJECT / "RESULTS.md", *sorted((PROJECT / "results" / "cpu").rglob("*"))]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def test_overridden_cpu_run_leaves_the_committed_results_alone(tmp_path, capsys):
    before = _committed()
    small = ["--seeds", "0", "--data.n_train", "16", "--data.n_val", "8", "--data.n_test", "8"]
    small += ["--tier_a.steps", "1", "--tier_a.mlp_steps", "1", "--tier_a.splits", "localism"]
    small += ["--tier_a.ind_steps", "1", "--tier_a.baseline_steps", "1"]
    small += ["--grid.enabled", "false", "--answer_generation", "false"]
    code, out, err = _reproduce(tmp_path / "runs", capsys, *small)  # profile cpu, no --out
    assert code == 0, err
    assert "overrides given" in out and "untouched" in out
    report = _session_dir(tmp_path / "runs", *small) / "report"
    doc = json.loads((report / "metrics.json").read_text())
    assert doc["seeds"] == [0]  # one seed is accepted
    assert (
        "python -m alans.reproduce --profile cpu --seeds 0" in (report / "RESULTS.md").read_text()
    )
    assert _committed() == before


def test_paper_profile_two_steps(tmp_path, capsys, official_layout):
    """The paper profile as built: the paper's training only (no attribute-labelled warm-up),
    from an official starter file when one is named; two steps of every model."""
    cfg = PROFILES["paper"]()
    assert (cfg.tier_a.lr, cfg.tier_a.batch, cfg.tier_a.steps) == (0.95e-4, 32, 200 * 6000 // 32)
    assert (cfg.data.n_train, cfg.data.n_val, cfg.data.n_test) == (6000, 2000, 2000)
    assert (cfg.alans.lam_color, cfg.alans.pred_scale, cfg.alans.action_scale) == (5e-7, 1e3, 1e4)
    assert cfg.tier_b.paper_setting and cfg.tier_b.warmup_steps == 0 and cfg.tier_b.starter is None
    assert cfg.grid.enabled and cfg.grid.config == "grid3x3"  # the paper's default configuration
    assert (cfg.grid.n_train, cfg.grid.baseline_steps) == (6000, cfg.tier_a.steps)
    torch.save(official_layout(ALANS()), tmp_path / "sys.pth")
    small = {
        "data.n_train": 16,
        "data.n_val": 8,
        "data.n_test": 8,
        "tier_a.steps": 2,
        "tier_a.ind_steps": 2,
        "tier_a.mlp_steps": 2,
        "tier_a.baseline_steps": 2,
        "tier_a.splits": "productivity",
        "grid.enabled": "false",  # built as the paper's (asserted above); run by the smoke test
        "tier_b.n_train": 8,
        "tier_b.n_test": 8,
        "tier_b.steps": 2,
        "tier_b.baseline_steps": 2,
        "tier_b.batch": 4,
        "tier_b.starter": str(tmp_path / "sys.pth"),
        "out": str(tmp_path / "r"),
    }
    args = [x for k, v in small.items() for x in (f"--{k}", str(v))]
    code, _, err = _reproduce(tmp_path / "runs", capsys, "--profile", "paper", *args)
    assert code == 0, err
    doc = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert validate(doc) == [] and doc["seeds"] == [1234, 1235, 1236]
    m = doc["metrics"]
    assert m["tierA/productivity/alans/test_acc"]["n"] == 3
    assert m["tierB/systematicity/scl/test_acc"]["n"] == 3
    assert m["tierB/systematicity/alans/test_acc"]["n"] == 3  # as the paper trains it
    sp = m["tierB/systematicity/alans_supervised_perception/test_acc"]
    assert "warmup_steps 0" in sp["missing"]  # the labelled variant is not trained
    assert not any("perception_after_warmup" in k for k in m)
    assert doc["info"]["config"]["tier_b"]["starter"] == "sys.pth"  # no machine path
    c13 = {c["id"]: c for c in doc["claims"]}["C13"]  # the paper profile's claim on that ALANS
    assert c13["metric"] == "tierB/systematicity/alans/test_acc" and c13["verdict"]
    assert m["tierA/systematicity/alans/test_acc"]["missing"]  # split not run: null, with why


def _fake_tier_a(rng: np.random.Generator, relnet_iid: float) -> dict:
    """One seed of ``experiments.tier_a`` with made-up accuracies: ALANS near ceiling, the
    flat MLP never learned (IID 0.64) but scores highest on test, the relation net's IID
    accuracy is ``relnet_iid``."""
    r = {f"alans_{p}_acc": float(rng.uniform(0.97, 0.99)) for p in PARTS}
    r |= {f"alans_ind_{p}_acc": float(rng.uniform(0.5, 0.55)) for p in PARTS}
    r |= {"mlp_val_acc": 0.64, "mlp_iid_acc": 0.64 + rng.uniform(0, 0.01)}
    r |= {"mlp_test_acc": float(rng.uniform(0.55, 0.6)), "alans_init_acc": 0.86}
    r |= {"relnet_scalar_val_acc": relnet_iid, "relnet_scalar_iid_acc": relnet_iid}
    r |= {"relnet_scalar_test_acc": float(rng.uniform(0.45, 0.5)) + rng.uniform(0, 0.01)}
    r |= {"mcnemar_p_alans_vs_mlp": 1e-9, "mcnemar_p_alans_vs_relnet_scalar": 1e-9}
    r |= {"mcnemar_p_alans_vs_alans_ind": 1e-9}
    r["answer_generation"] = {"attr_acc": 0.99, "all_acc": 0.97, "copy8_attr_acc": 0.5}
    r |= {"mlp_lr": 1e-3, "relnet_scalar_lr": 3e-3, "alans_value_norms": [1.0] * 10}
    return r


PARTS = ("val", "iid", "test")


@pytest.mark.parametrize("relnet_iid", [0.64, 0.97])
def test_a_failed_baseline_gate_makes_its_claims_untestable(relnet_iid):
    rng = np.random.default_rng(0)
    tier_a = {s: [_fake_tier_a(rng, relnet_iid) for _ in range(3)] for s in SPLITS}
    grid = {"productivity": [_fake_tier_a(rng, relnet_iid) for _ in range(3)]}
    baselines = ("mlp", "relnet_scalar")
    ev = evidence("cpu", [0, 1, 2], tier_a, baselines=baselines, grid="grid3x3", grid_runs=grid)
    gates_ = {g["id"]: g for g in ev.gates}
    claims_ = {c["id"]: c for c in ev.claims}
    assert not gates_["G-prod-mlp"]["passed"]
    assert gates_["G-prod-relnet_scalar"]["passed"] is (relnet_iid > 0.9)
    # The strongest baseline is the best on test among those that passed their gate.
    strongest = "relnet_scalar" if relnet_iid > 0.9 else "mlp"
    c1 = claims_["C1"]
    assert c1["central"] and c1["versus"]["metric"] == f"tierA/productivity/{strongest}/test_acc"
    assert c1["gates"] == [f"G-prod-{strongest}", "G-prod-alans"]
    assert gates_["G-g3-prod-relnet_scalar"]["passed"] is (relnet_iid > 0.9)
    assert claims_["C14"]["versus"]["metric"] == f"grid3x3/productivity/{strongest}/test_acc"
    for c in (claims_[i] for i in ("C1", "C2", "C3", "C4", "C14")):
        if relnet_iid < 0.9:
            assert c["verdict"] == "untestable" and "G-" in c["reason"] and "mlp" in c["reason"]
        else:
            assert c["verdict"] == "held"  # ALANS 0.97+ vs the relation net <= 0.51
    assert "C11" not in claims_ and "G-tierB-scl" not in gates_  # Tier B did not run
    assert claims_["C12"]["verdict"] == "held"
    assert validate(ev.to_dict(1.0)) == []


def test_the_grid_profile_is_its_own_committed_section_that_a_cpu_run_keeps(tmp_path):
    """cpu runs Tier A on Center only; cpu-grid runs Tier A on the 3x3 Grid only, with its
    own central claim C14, its own ``grid_metrics.json`` and a marked RESULTS.md section that a
    cpu report keeps and a cpu-grid report replaces (reports from made-up unit results)."""
    cpu, grid = PROFILES["cpu"](), PROFILES["cpu-grid"]()
    assert cpu.tier_a.enabled and not cpu.grid.enabled and not cpu.tier_b.enabled
    assert not grid.tier_a.enabled and not grid.tier_b.enabled
    assert (grid.grid.enabled, grid.grid.config, grid.grid.splits) == (
        True,
        "grid3x3",
        ("productivity",),
    )
    baselines = ("mlp", "relnet_scalar")
    for cfg in (cpu, grid):
        cfg.tier_a.baselines, cfg.answer_generation = baselines, False
    rng = np.random.default_rng(1)
    center = {s: [_fake_tier_a(rng, 0.97) for _ in range(3)] for s in SPLITS}
    on_grid = {"productivity": [_fake_tier_a(rng, 0.97) for _ in range(3)]}
    committed = tmp_path / "committed"
    committed.mkdir()
    target = ReportTarget(committed, committed / "RESULTS.md", committed=True, why="test")
    results = committed / "RESULTS.md"

    reproduce._report(grid, "cpu-grid", ({}, on_grid, []), target, 1.0, [])
    doc = json.loads((committed / "grid_metrics.json").read_text())
    assert validate(doc) == [] and not (committed / "metrics.json").exists()
    assert [c["id"] for c in doc["claims"] if c["central"]] == ["C14"]
    assert {g["id"] for g in doc["gates"]} == {f"G-g3-prod-{m}" for m in ("alans", *baselines)}
    section = marked_section(results, reproduce.GRID_TAG)
    assert section is not None and "PROFILE=cpu-grid" in section and "C14 (central)" in section

    reproduce._report(cpu, "cpu", (center, {}, []), target, 1.0, [])
    text = results.read_text()
    assert marked_section(results, reproduce.GRID_TAG) == section  # kept, unchanged
    assert text.index("C1 (central)") < text.index(section)
    assert "C14" not in text.replace(section, "")

    reproduce._report(grid, "cpu-grid", ({}, on_grid, []), target, 2.0, [])
    again = results.read_text()
    assert again.count(section_markers(reproduce.GRID_TAG)[0]) == 1  # replaced, not added
    assert again.split(section_markers(reproduce.GRID_TAG)[0])[0] == text.split(section)[0]


def test_non_finite_loss_stops_training_with_a_message() -> None:
    w = torch.nn.Parameter(torch.ones(1))
    model = torch.nn.Module()
    model.w = w

    def loss_fn(idx: torch.Tensor) -> torch.Tensor:
        return w.sum() * float("nan")

    with pytest.raises(DivergenceError, match=r"loss is nan at step 1 .*no checkpoint"):
        fit(model, loss_fn, n=4, steps=3, batch=2, param_groups=[{"params": [w]}], seed=0)
    assert torch.equal(w.detach(), torch.ones(1))  # no update from the bad step
