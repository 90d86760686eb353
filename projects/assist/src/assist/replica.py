"""Replica RGB-D sequences with instance masks, read by path, as scene nodes (the paper profile).

The layout is vMAP's pre-rendered Replica sequences (e.g. ``room_0/imap/00/``), checked in
kxhit/vMAP's ``dataset.py`` and ``configs/Replica`` (facts only):

* ``rgb/rgb_<i>.png`` (8-bit RGB), ``depth/depth_<i>.png`` (16-bit, ``data.depth_scale`` units
  per metre: vMAP's 1000), ``semantic_class/semantic_class_<i>.png`` and
  ``semantic_instance/semantic_instance_<i>.png`` (16-bit ids), ``i = 0 … N−1`` unpadded;
* ``traj_w_c.txt``: one camera-to-world matrix per line (16 numbers, row-major), OpenCV axes
  (x right, y down, z forward: a pixel's direction is ((u − cx)/fx, (v − cy)/fy, 1));
* intrinsics (vMAP's config): fx = fy = 600, cx = 599.5, cy = 339.5 at 1200×680, i.e. a centred
  pinhole with a 90° horizontal field of view, which is ``geometry.Camera`` with
  ``data.fov_deg``; depth PNGs hold z (along the optical axis), turned here into the distance
  along the unit ray that the renderer uses.

Instances whose semantic class is a background class (vMAP's list: wall, floor, ceiling, …)
become the background (stuff) node; every other instance seen by the training frames becomes an
object node whose box is the axis-aligned box of its back-projected masked depth (2nd-98th
percentiles, against mask-edge outliers; yaw 0). vMAP grows its boxes from the same points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from assist.configs import Config
from assist.geometry import Box, Camera, camera_rays
from assist.nodes import SceneGraph, new_node
from assist.render import Background
from assist.room import View
from reprokit.errors import UserError

TRAJECTORY = "traj_w_c.txt"
FOLDERS = ("rgb", "depth", "semantic_class", "semantic_instance")
# vMAP's Replica background classes: beam, blinds, curtain, ceiling, floor, pillar, vent, wall,
# wall-plug, window, rug, switch.
BACKGROUND_CLASSES = frozenset({5, 12, 30, 31, 40, 60, 92, 93, 95, 97, 98, 79})
# Replica classes that name one of our node labels (vMAP's "things" include them); any other
# thing class is labelled "object".
LABELS = {20: "chair", 80: "table"}
MIN_PIXELS = 4  # an instance seen by fewer training pixels gets no node (too small to fit)
MAX_POINTS = 200_000  # back-projected points per instance that its box is fitted to


@dataclass
class Sequence:
    """A Replica sequence split into training and held-out frames, as scene-node data."""

    gt: SceneGraph  # object nodes with boxes from the data; the background box spans all points
    train_cams: list[Camera]
    train_views: list[View]
    test_cams: list[Camera]
    test_views: list[View]


def frame_path(root: Path, folder: str, i: int) -> Path:
    return root / folder / f"{folder}_{i}.png"


def check_layout(root: Path | None, cfg: Config) -> int:
    """The folder holds a readable vMAP-layout sequence with enough frames; its frame count."""
    if root is None:
        raise UserError("the paper profile reads a Replica sequence: give --data.replica PATH")
    if not root.is_dir():
        raise UserError(f"--data.replica: {root} is not a folder")
    missing = [f for f in (*FOLDERS, TRAJECTORY) if not (root / f).exists()]
    if missing:
        raise UserError(f"--data.replica: {root} lacks {', '.join(missing)} (vMAP's layout)")
    poses = read_trajectory(root / TRAJECTORY)
    need = cfg.data.train_views + cfg.data.test_views
    if len(poses) < need:
        raise UserError(
            f"--data.replica: {root} has {len(poses)} poses, the profile needs "
            f"{need} (--data.train_views + --data.test_views)"
        )
    for folder in FOLDERS:
        absent = [i for i in range(len(poses)) if not frame_path(root, folder, i).is_file()]
        if absent:
            raise UserError(f"--data.replica: {frame_path(root, folder, absent[0])} is missing")
    size = Image.open(frame_path(root, "rgb", 0)).size
    if size != (cfg.data.width, cfg.data.height):
        raise UserError(
            f"--data.replica: frames are {size[0]}×{size[1]}, --data.width/--data.height say "
            f"{cfg.data.width}×{cfg.data.height}"
        )
    return len(poses)


def read_trajectory(path: Path) -> np.ndarray:
    """Camera-to-world matrices (N, 4, 4) from ``traj_w_c.txt``; a malformed file is one line."""
    try:
        values = np.loadtxt(path, ndmin=2)
    except ValueError as err:
        raise UserError(f"--data.replica: {path} is not a list of numbers ({err})") from None
    if values.shape[1] != 16:
        raise UserError(f"--data.replica: {path} has {values.shape[1]} numbers a line, not 16")
    return values.reshape(-1, 4, 4)


def camera(c2w: np.ndarray, cfg: Config) -> Camera:
    """OpenCV camera-to-world → ``Camera`` (columns right, up, forward): flip the y axis."""
    r = c2w[:3, :3] * np.array([1.0, -1.0, 1.0])
    rot = tuple(tuple(float(x) for x in row) for row in r)
    origin = tuple(float(x) for x in c2w[:3, 3])
    return Camera(origin, rot, cfg.data.width, cfg.data.height, math.radians(cfg.data.fov_deg))


def split(n_frames: int, cfg: Config) -> tuple[list[int], list[int]]:
    """Frames spread evenly over the sequence; every k-th of them held out (between two
    training frames)."""
    n_train, n_test = cfg.data.train_views, cfg.data.test_views
    picked = np.linspace(0, n_frames - 1, n_train + n_test).round().astype(int).tolist()
    held = {int((j + 0.5) * len(picked) / n_test) for j in range(n_test)}
    return [f for k, f in enumerate(picked) if k not in held], [picked[k] for k in sorted(held)]


def read_frame(root: Path, i: int, cam: Camera, cfg: Config) -> tuple[View, np.ndarray]:
    """One frame as a ``View`` (instance = the raw Replica instance id for now, semantic = its
    Replica class) and the per-pixel validity (depth > 0)."""
    rgb = np.asarray(Image.open(frame_path(root, "rgb", i)).convert("RGB"), np.float32) / 255
    z = np.asarray(Image.open(frame_path(root, "depth", i)), np.float32) / cfg.data.depth_scale
    sem = np.asarray(Image.open(frame_path(root, "semantic_class", i)), np.int64)
    inst = np.asarray(Image.open(frame_path(root, "semantic_instance", i)), np.int64)
    o, d = camera_rays(cam)
    forward = torch.tensor(cam.rotation)[:, 2]
    dist = torch.from_numpy(z).reshape(-1) / (d @ forward)  # z-depth → distance along the ray
    points = o + dist[:, None] * d
    hw = (cam.height, cam.width)
    view = View(
        torch.from_numpy(rgb),
        dist.reshape(hw),
        torch.from_numpy(inst),
        torch.from_numpy(sem),
        points,
    )
    return view, z > 0


def object_boxes(views: list[View], valid: list[np.ndarray]) -> dict[int, tuple[Box, int]]:
    """Replica instance id → (axis-aligned box of its back-projected points, semantic class)."""
    points: dict[int, list[torch.Tensor]] = {}
    classes: dict[int, int] = {}
    for v, ok in zip(views, valid, strict=True):
        inst, sem, okf = v.instance.reshape(-1), v.semantic.reshape(-1), torch.from_numpy(ok)
        for i in inst[okf.reshape(-1)].unique().tolist():
            sel = (inst == i) & okf.reshape(-1)
            cls = int(sem[sel].mode().values)
            if cls in BACKGROUND_CLASSES:
                continue
            points.setdefault(i, []).append(v.points[sel])
            classes[i] = cls
    boxes = {}
    for i, ps in points.items():
        p = torch.cat(ps)
        if len(p) < MIN_PIXELS:
            continue
        p = p[:: max(1, len(p) // MAX_POINTS)]  # torch.quantile's input limit; a strided subset
        lo, hi = torch.quantile(p, 0.02, dim=0), torch.quantile(p, 0.98, dim=0)
        half = ((hi - lo) / 2).clamp_min(0.02)
        boxes[i] = (Box(tuple(((lo + hi) / 2).tolist()), 0.0, tuple(half.tolist())), classes[i])
    return boxes


def relabel(view: View, ids: dict[int, int], labels: dict[int, int]) -> View:
    """Replica instance ids → node ids (0: background), classes → the nodes' semantic ids."""
    node = torch.zeros_like(view.instance)
    sem = torch.zeros_like(view.semantic)
    for raw, nid in ids.items():
        sel = view.instance == raw
        node[sel], sem[sel] = nid, labels[nid]
    return View(view.rgb, view.depth, node, sem, view.points)


def load_sequence(cfg: Config) -> Sequence:
    """Read the sequence of ``cfg.data.replica``: cameras, views, object nodes and their boxes."""
    root = cfg.data.replica
    n = check_layout(root, cfg)
    poses = read_trajectory(root / TRAJECTORY)
    train_idx, test_idx = split(n, cfg)
    frames = {i: read_frame(root, i, camera(poses[i], cfg), cfg) for i in train_idx + test_idx}
    train_views = [frames[i][0] for i in train_idx]
    boxes = object_boxes(train_views, [frames[i][1] for i in train_idx])
    ids = {raw: k for k, raw in enumerate(sorted(boxes), start=1)}
    nodes = tuple(
        new_node(k, LABELS.get(boxes[raw][1], "object"), "none", boxes[raw][0], None, "R")
        for raw, k in ids.items()
    )
    valid = torch.cat([v.points[torch.from_numpy(frames[i][1]).reshape(-1)] for i, v in
                       zip(train_idx, train_views, strict=True)])  # fmt: skip
    lo, hi = valid.amin(0), valid.amax(0)
    room = Box(tuple(((lo + hi) / 2).tolist()), 0.0, tuple(((hi - lo) / 2).tolist()))
    gt = SceneGraph("R", Background(None, room), nodes)
    semantic = {n.node_id: n.semantic_id for n in nodes}
    views = {i: relabel(v, ids, semantic) for i, (v, _) in frames.items()}
    return Sequence(
        gt,
        [camera(poses[i], cfg) for i in train_idx],
        [views[i] for i in train_idx],
        [camera(poses[i], cfg) for i in test_idx],
        [views[i] for i in test_idx],
    )
