"""The baselines' lr/entropy sweep: one line of training-board success per setting; bad input
is one line."""

import pytest
from halma.sweep import run

from reprokit.lifecycle import entry

TINY = "n_envs=8,rollout=4,minibatches=2,n_train_boards=8"


def test_each_setting_prints_its_training_curve(capsys):
    run(["symbolic", "320", f"{TINY},unshared_lr=0.003", f"{TINY},unshared_lr=0.001"], False)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"{TINY},unshared_lr=0.003",
        f"{TINY},unshared_lr=0.001",
    ]
    for line in lines:
        curve = line.split("[")[1].split("]")[0].split(", ")
        assert len(curve) == 5 and all(0.0 <= float(v) <= 1.0 for v in curve)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cnn", "100", "lr=0.1"], "unknown agent 'cnn'"),
        (["symbolic", "ten", "lr=0.1"], "<steps> must be a positive integer"),
        (["symbolic", "100", "lr"], "a setting is key=value"),
        (["symbolic", "100", "lr=-1"], "must be > 0"),
        (["symbolic", "100"], "usage"),
    ],
)
def test_bad_input_is_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as e:
        entry("halma.sweep", run, args)
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and message in err and len(err.splitlines()) == 1, err
