"""reprokit.config: profiles, overrides, help and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from _cfg_example import PROFILES, Config, Train

from reprokit.config import ConfigError, field_info, override, param, parse, to_dict

HERE = Path(__file__).parent


def test_default_profile_is_cpu_and_copies():
    profile, cfg = parse(PROFILES, [])
    assert profile == "cpu"
    assert cfg == PROFILES["cpu"] and cfg is not PROFILES["cpu"]
    cfg.train.lr = 1.0
    assert PROFILES["cpu"].train.lr == 3e-4


def test_profile_and_overrides():
    argv = ["--profile", "smoke", "--train.lr", "1e-3", "--seeds", "3", "4", "--train.amp"]
    argv += ["--model=cnn", "--data", "/tmp/x.h5", "--name", "none", "--dropout", "0"]
    profile, cfg = parse(PROFILES, argv)
    assert profile == "smoke"
    assert cfg.train.steps == 2  # from the smoke profile
    assert cfg.train.lr == 1e-3 and isinstance(cfg.train.lr, float)
    assert cfg.seeds == (3, 4)
    assert cfg.train.amp is True
    assert cfg.model == "cnn"
    assert cfg.data == Path("/tmp/x.h5")
    assert cfg.name is None
    assert cfg.dropout == 0.0


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("false", False), ("1", True), ("0", False)]
)
def test_bool_values(text, value):
    _, cfg = parse(PROFILES, ["--train.amp", text])
    assert cfg.train.amp is value


def test_negative_and_comma_values():
    _, cfg = parse(PROFILES, ["--seeds=5,6,7", "--seed", "2"])
    assert cfg.seeds == (5, 6, 7) and cfg.seed == 2
    with pytest.raises(SystemExit):  # -1e-3 is read as the value, then rejected by gt=0
        parse(PROFILES, ["--train.lr", "-1e-3"])


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--lrr", "3"], ["--lrr", "did you mean --train.lr", "valid keys", "--train.steps"]),
        (["--bogus", "1"], ["unknown option --bogus", "valid keys", "--seed"]),
        (["--train.lr", "abc"], ["--train.lr", "expected a float", "'abc'"]),
        (["--train.steps", "2.5"], ["--train.steps", "expected an integer"]),
        (["--train.steps", "0"], ["--train.steps", ">= 1", "got 0"]),
        (["--dropout", "1"], ["--dropout", "< 1"]),
        (["--model", "rnn"], ["--model", "invalid choice 'rnn'", "'mlp', 'cnn'"]),
        (["--act", "tanh"], ["--act", "'relu', 'gelu'"]),
        (["--profile", "gpu"], ["unknown profile 'gpu'", "'smoke', 'cpu', 'paper'"]),
        (["--train.amp", "maybe"], ["--train.amp", "true/false/1/0"]),
        (["--seed"], ["--seed", "expected a value"]),
        (["stray"], ["unexpected argument 'stray'"]),
        (["--seeds", "1,x"], ["--seeds", "expected an integer"]),
    ],
)
def test_errors_are_one_line_exit_2(argv, needles, capsys):
    with pytest.raises(SystemExit) as e:
        parse(PROFILES, argv, prog="demo.reproduce")
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("demo.reproduce: error: ")
    for n in needles:
        assert n in err, (n, err)


def test_cli_subprocess_error_has_no_traceback():
    script = str(HERE / "_cfg_example.py")
    r = subprocess.run(
        [sys.executable, script, "--bogus", "1"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert "--bogus" in r.stderr
    ok = subprocess.run(
        [sys.executable, script, "--profile", "paper", "--train.steps", "7"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out["profile"] == "paper" and out["cfg"]["train"] == {
        "lr": 1e-4,
        "steps": 7,
        "amp": False,
    }


def test_help_lists_every_field_with_profile_defaults(capsys):
    with pytest.raises(SystemExit) as e:
        parse(PROFILES, ["--profile", "paper", "--help"], prog="demo.reproduce")
    assert e.value.code == 0
    out = capsys.readouterr().out
    for key in field_info(PROFILES["paper"]):
        assert f"--{key}" in out
    assert "Adam learning rate" in out and "default: 0.0001" in out  # paper's lr
    assert "default: 100000" in out
    assert "'mlp', 'cnn'" in out


def test_override_programmatic():
    cfg = PROFILES["cpu"]
    new = override(cfg, {"train.lr": 1e-3, "seeds": [1, 2]})
    assert new.train.lr == 1e-3 and new.seeds == (1, 2)
    assert cfg.train.lr == 3e-4  # not modified
    nested = override(cfg, {"train": {"steps": "5"}})
    assert nested.train.steps == 5
    with pytest.raises(ConfigError, match=r"--train\.lr.*> 0"):
        override(cfg, {"train.lr": 0.0})
    with pytest.raises(ConfigError, match=r"did you mean --train\.steps"):
        override(cfg, {"train.step": 3})
    with pytest.raises(ConfigError, match="expected an integer"):
        override(cfg, {"seed": True})


def test_to_dict_roundtrip():
    cfg = override(PROFILES["cpu"], {"data": "/d/x.h5"})
    d = to_dict(cfg)
    assert d["data"] == "/d/x.h5" and d["seeds"] == [0, 1, 2]
    json.dumps(d)
    again = override(Config(), d)
    assert again == cfg


def test_mutable_default_and_local_class():
    @dataclass
    class Local:
        hidden: list[int] = param([64, 64], "widths")
        opt: int | None = param(None, "optional int", ge=0)

    a, b = Local(), Local()
    a.hidden.append(1)
    assert b.hidden == [64, 64]
    _, cfg = parse({"cpu": Local()}, ["--hidden", "8,16", "--opt", "3"])
    assert cfg.hidden == [8, 16] and cfg.opt == 3
    with pytest.raises(ConfigError):
        override(Local(), {"opt": -1})


def test_profile_factory():
    profile, cfg = parse({"cpu": Config, "smoke": lambda: Config(train=Train(steps=1))}, [])
    assert profile == "cpu" and cfg.train.steps == 100
