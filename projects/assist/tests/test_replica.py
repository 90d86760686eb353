"""The paper profile's Replica loader (vMAP's layout) on a tiny fake sequence written here from
the procedural room, and the paper profile built on it for two optimisation steps on CPU."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from assist import reproduce as rep
from assist.configs import paper
from assist.geometry import camera_rays
from assist.replica import LABELS, TRAJECTORY, load_sequence, split
from assist.room import render_gt, ring_cameras, room_a
from PIL import Image

from reprokit.claims import validate
from reprokit.testing import run_entry

W, H, FRAMES = 32, 24, 10
CLASS_OF = {label: cls for cls, label in LABELS.items()}  # table → 80
WALL, OTHER = 93, 3  # a background class (wall) and a thing class without a node label


def write_fake_replica(root: Path, frames: int = FRAMES) -> list:
    """Room A rendered by the analytic renderer, stored as vMAP's Replica files: 8-bit RGB,
    16-bit z-depth in mm, class and instance PNGs, OpenCV camera-to-world poses."""
    cams = ring_cameras(frames, W, H, 90.0, seed=3)
    for folder in ("rgb", "depth", "semantic_class", "semantic_instance"):
        (root / folder).mkdir(parents=True)
    gt, poses = room_a(), []
    for i, cam in enumerate(cams):
        v = render_gt(gt, cam)
        _, d = camera_rays(cam)
        z = v.depth * (d @ torch.tensor(cam.rotation)[:, 2]).reshape(H, W)
        inst = torch.where(v.instance > 0, 100 + v.instance, 7)  # background: one wall instance
        labels = {n.node_id: CLASS_OF.get(n.label, OTHER) for n in gt.nodes}
        cls = torch.tensor([WALL, *(labels[k] for k in gt.ids())])[v.instance]  # ids 1…5
        save = {
            "rgb": (v.rgb.clamp(0, 1) * 255).round().to(torch.uint8).numpy(),
            "depth": (z * 1000).round().numpy().astype(np.uint16),
            "semantic_class": cls.numpy().astype(np.uint16),
            "semantic_instance": inst.numpy().astype(np.uint16),
        }
        for folder, array in save.items():
            Image.fromarray(array).save(root / folder / f"{folder}_{i}.png")
        c2w = np.eye(4)
        c2w[:3, :3] = np.array(cam.rotation) * np.array([1.0, -1.0, 1.0])  # up → OpenCV's down
        c2w[:3, 3] = cam.origin
        poses.append(c2w.reshape(-1))
    np.savetxt(root / TRAJECTORY, np.array(poses))
    return cams


def replica_cfg(root: Path, train: int = 6, test: int = 2):
    cfg = paper()
    cfg.data.replica, cfg.data.width, cfg.data.height = root, W, H
    cfg.data.train_views, cfg.data.test_views = train, test
    return cfg


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("replica") / "room_0"
    return root, write_fake_replica(root)


def test_loader_recovers_cameras_depth_and_object_nodes(fake) -> None:
    root, cams = fake
    cfg = replica_cfg(root)
    seq = load_sequence(cfg)
    train_idx, test_idx = split(FRAMES, cfg)
    assert len(train_idx) == 6 and len(test_idx) == 2 and not set(train_idx) & set(test_idx)
    for cam, i in zip(seq.train_cams + seq.test_cams, train_idx + test_idx, strict=True):
        o, d = camera_rays(cam)
        o0, d0 = camera_rays(cams[i])
        assert torch.allclose(o, o0, atol=1e-5) and torch.allclose(d, d0, atol=1e-5)
        truth = render_gt(room_a(), cams[i])
        view = (seq.train_views + seq.test_views)[(train_idx + test_idx).index(i)]
        assert (view.depth - truth.depth).abs().max() < 2e-3  # the PNGs' 1 mm steps
        assert torch.equal(view.instance > 0, truth.instance > 0)  # walls joined the background
    gt = room_a()
    assert len(seq.gt.nodes) == len(gt.nodes)
    for node, true in zip(seq.gt.nodes, gt.nodes, strict=True):  # raw ids 101… keep the order
        centre = true.box.to_local(torch.tensor([node.box.centre]))
        assert centre.abs().max() <= 1.0, (node.label, node.box, true.box)
        assert node.label == (true.label if true.label in CLASS_OF else "object")


def test_paper_profile_runs_two_steps_on_the_fake_sequence(fake, tmp_path) -> None:
    root, _ = fake
    args = ["--profile", "paper", "--data.replica", str(root), "--device", "cpu"]
    args += ["--data.width", str(W), "--data.height", str(H), "--data.train_views", "6"]
    args += ["--data.test_views", "2", "--train.steps", "2", "--train.log_every", "1"]
    args += ["--speed_nodes", "2", "--render.samples_object", "8"]
    args += ["--render.samples_background", "16"]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = run_entry(rep.PROG, rep.run, [*args, "--out", str(tmp_path / "o")], tmp_path / "r")
    assert code == 0, out.getvalue()[-2000:]
    doc = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert validate(doc, committed=False) == []
    for m in ("assist", "baseline"):  # the paper profile's two models
        assert doc["metrics"][f"heldout_psnr/{m}"]["n"] == 1
    assert "-- unit assist-R-seed0" in out.getvalue() and "-- unit eval-R-seed0" in out.getvalue()
    logs = sorted((tmp_path / "r").rglob("metrics.jsonl"))
    steps = [json.loads(line)["step"] for p in logs for line in p.read_text().splitlines()]
    assert steps and max(steps) == 2  # two optimisation steps, logged


def _corrupt(root: Path, how: str) -> Path:
    if how == "traj":
        (root / TRAJECTORY).write_text("1 2 3\n")
    elif how == "no_depth":
        for p in (root / "depth").iterdir():
            p.unlink()
        (root / "depth").rmdir()
    elif how == "frame":
        (root / "rgb" / "rgb_3.png").unlink()
    return root


BAD_PATHS = [
    (None, "give --data.replica PATH"),
    ("absent", "is not a folder"),
    ("no_depth", "lacks depth"),
    ("traj", "has 3 numbers a line, not 16"),
    ("frame", "rgb_3.png is missing"),
    ("few", "has 10 poses, the profile needs 220"),
    ("size", "frames are 32×24"),
]


@pytest.mark.parametrize(("how", "message"), BAD_PATHS)
def test_a_missing_or_bad_replica_path_is_one_line(tmp_path, capsys, how, message) -> None:
    args = ["--profile", "paper", "--device", "cpu", "--out", str(tmp_path / "o")]
    if how == "absent":
        args += ["--data.replica", str(tmp_path / "nowhere")]
    elif how is not None:
        root = tmp_path / "seq"
        write_fake_replica(root)
        args += ["--data.replica", str(_corrupt(root, how))]
        if how != "few":
            args += ["--data.train_views", "6", "--data.test_views", "2"]
        if how != "size":
            args += ["--data.width", str(W), "--data.height", str(H)]
    code = run_entry(rep.PROG, rep.run, args, tmp_path / "runs")
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"{rep.PROG}: error:") and message in err, err
    assert not (tmp_path / "runs").exists()
