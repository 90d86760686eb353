"""Official starter checkpoints (load, inspect) and the end-to-end curve diagnostic."""

import json

import numpy as np
import pytest
import torch
from alans import end_to_end
from alans.model import ALANS
from alans.perception import ATTR_CLASSES
from alans.starter import (
    OFFICIAL_ATTRS,
    bn_steps,
    lenet_accuracy,
    load_starter,
    shared_lenets,
)
from alans.train import panel_labels
from torch import nn

from reprokit.errors import UserError


def test_a_starter_file_loads_into_every_tensor_of_the_model(tmp_path, official_layout):
    torch.manual_seed(3)
    src = ALANS()
    src.perception.nets[2].bn1.num_batches_tracked.fill_(77)
    torch.save(official_layout(src), tmp_path / "sys.pth")
    torch.manual_seed(4)
    dst = ALANS()
    load_starter(dst, tmp_path / "sys.pth")
    for k, v in src.state_dict().items():
        assert torch.allclose(dst.state_dict()[k].double(), v.double(), atol=1e-7), k
    assert dst.backend.system.M.dtype == torch.float64  # float64 algebra kept
    assert bn_steps(official_layout(dst))["size"] == 77


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a checkpoint", "cannot be read as a torch checkpoint"),
        ({"model": {}}, "not an ALANS starter checkpoint"),
        ("drop", "does not fit the ALANS model"),
    ],
)
def test_a_bad_starter_file_is_one_user_error(tmp_path, content, message, official_layout):
    path = tmp_path / "bad.pth"
    if content == "drop":
        sd = official_layout(ALANS())
        del sd["object_cnn"]["color_model.fc3.bias"]
        torch.save(sd, path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(UserError, match=message):
        load_starter(ALANS(), path)


def test_shared_lenets_finds_a_frozen_module(official_layout):
    torch.manual_seed(0)
    a = official_layout(ALANS())
    b = {k: {n: t.clone() for n, t in v.items()} for k, v in a.items()}
    b["object_cnn"]["type_model.fc1.weight"] += 1e-6
    b["object_cnn"]["exist_model.bn1.running_mean"] += 1.0  # running statistics do not count
    assert shared_lenets(a, b) == ["exist", "size", "color"]


class _Oracle(nn.Module):
    """Perception that outputs the true value of every slot, through a class permutation."""

    def __init__(self, labels: dict[str, torch.Tensor], perm: dict[str, torch.Tensor]):
        super().__init__()
        self.labels, self.perm = labels, perm

    def forward(self, x, attrs):
        out = {}
        for a in attrs:
            cls = self.perm[a][self.labels[a].clamp_min(0)]
            out[a] = torch.log(nn.functional.one_hot(cls, ATTR_CLASSES[a]).float() + 1e-9)
        return out


def test_lenet_accuracy_reads_classes_as_values_and_under_relabelling():
    rng = np.random.default_rng(0)
    panels = np.stack(
        [
            np.ones((5, 16)),
            *(rng.integers(0, ATTR_CLASSES[a], (5, 16)) for a in OFFICIAL_ATTRS[1:]),
        ],
        -1,
    ).astype(np.int64)
    data = {"panels": panels}
    labels = {k: v.reshape(-1) for k, v in panel_labels(data, 1).items()}
    shift = {a: torch.roll(torch.arange(k), 1) for a, k in ATTR_CLASSES.items()}
    model = ALANS()
    model.perception = _Oracle(labels, shift)
    acc = lenet_accuracy(model, torch.zeros(5, 16, 1, 32, 32), data, ("type", "size", "color"))
    for a, v in acc.items():  # every class off by one, yet fully separated, and certain
        assert v["acc"] == 0.0 and v["acc_relabelled"] == 1.0 and v["entropy"] < 1e-6, a


def test_end_to_end_diagnostic_logs_gradients_and_accuracy_per_step(tmp_path):
    out = tmp_path / "e2e"
    args = ["--steps", "3", "--batch", "4", "--n_train", "16", "--n_eval", "8"]
    end_to_end.main([*args, "--eval_every", "2", "--out", str(out)])
    doc = json.loads((out / "curve.json").read_text())
    recs = doc["records"]
    assert [r["step"] for r in recs] == [0, 1, 2, 3]
    assert [r["step"] for r in recs if "iid_acc" in r] == [0, 2, 3]
    for r in recs[1:]:
        assert np.isfinite(r["loss"]) and r["loss"] >= r["answer_ce"] > 0
        for k in ("lenet_type", "lenet_size", "lenet_color", "Z", "M"):
            assert np.isfinite(r[k]) and r[k] > 0, k  # the answer loss reaches every module
        assert 0 <= r["batch_acc"] <= 1
    for a in ("type", "size", "color"):
        assert 0 <= recs[-1][f"{a}_acc_relabelled"] <= 1 and 0 <= recs[-1][f"{a}_entropy"] <= 1
    assert (out / "curve.png").stat().st_size > 0


def test_end_to_end_refuses_a_zero_budget(capsys):
    with pytest.raises(SystemExit) as e:
        end_to_end.main(["--steps", "0"])
    assert e.value.code == 2 and "must be >= 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "cannot be read as a torch checkpoint"),
        (["--tier_b.paper_setting", "false"], "--tier_b.starter is the start of"),
    ],
)
def test_the_paper_profile_refuses_a_bad_starter_in_one_line(tmp_path, capsys, extra, message):
    from alans import reproduce

    from reprokit.testing import run_entry

    (tmp_path / "sys.pth").write_text("not a checkpoint")
    args = [
        "--profile",
        "paper",
        "--tier_a.enabled",
        "false",
        "--grid.enabled",
        "false",
        "--out",
        str(tmp_path / "r"),
    ]
    args += ["--tier_b.starter", str(tmp_path / "sys.pth"), *extra]
    code = run_entry(reproduce.PROG, reproduce.run, args, tmp_path / "runs")
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "runs").exists()  # refused before any training
