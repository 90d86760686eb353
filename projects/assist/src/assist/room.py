"""The procedural indoor room and its exact analytic renderer (the data, and every edited GT).

Objects are canonical shapes (cube, sphere, capped cylinder) filling their node's box, so any edit
of the scene graph (``nodes.SceneGraph``) renders exactly: a moved, turned, duplicated, deleted,
swapped (shape stretched into the other box) or imported object is the same analytic shape under
its new box. Shading is done in each object's own canonical frame (README, Deviations): an edit
never changes how an object looks, only where it is; no shadows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from assist.geometry import Box, Camera, camera_rays, look_at, project, ray_box
from assist.nodes import SceneGraph, new_node

ROOM_MIN = (-2.0, -2.0, 0.0)
ROOM_MAX = (2.0, 2.0, 2.5)
LIGHT = torch.tensor([0.4, 0.3, 0.85]) / math.sqrt(0.4**2 + 0.3**2 + 0.85**2)
FACE_TINT = torch.tensor(  # per cube face (axis·2 + positive side): rotation is visible
    [[1.0, 0.8, 0.8], [0.7, 0.7, 1.0], [0.8, 1.0, 0.7], [1.0, 1.0, 0.6], [1.0, 1.0, 1.0], [0.5] * 3]
)
WALL_RGB = torch.tensor(  # -x, +x, -y, +y walls, floor light/dark, ceiling
    [[0.55, 0.75, 0.55], [0.8, 0.5, 0.45], [0.85, 0.8, 0.45], [0.45, 0.6, 0.85]]
)


@dataclass(frozen=True)
class Shape:
    """Analytic content of a ground-truth node: a canonical shape and its base colour."""

    kind: str  # "cube" | "sphere" | "cylinder"
    rgb: tuple[float, float, float]


@dataclass(frozen=True)
class Room:
    """Analytic content of the background (stuff) node: floor, four walls, ceiling."""

    lo: tuple[float, float, float] = ROOM_MIN
    hi: tuple[float, float, float] = ROOM_MAX

    @property
    def box(self) -> Box:
        centre = tuple((a + b) / 2 for a, b in zip(self.lo, self.hi, strict=True))
        half = tuple((b - a) / 2 for a, b in zip(self.lo, self.hi, strict=True))
        return Box(centre, 0.0, half)


# -- shapes in the canonical frame ---------------------------------------------------------------
def intersect(kind: str, q0: Tensor, qd: Tensor) -> Tensor:
    """First hit t > 0 of canonical rays with a canonical shape (inf where missed), (R,)."""
    inf = torch.full(q0.shape[:1], math.inf)
    if kind == "cube":
        tn, _, hit = ray_box(q0, qd)
        return torch.where(hit & (tn > 0), tn, inf)
    if kind == "sphere":
        return _quadric(q0, qd, inf)
    if kind == "cylinder":
        side = _quadric(q0[:, :2], qd[:, :2], inf)
        z = q0[:, 2] + side * qd[:, 2]
        side = torch.where(z.abs() <= 1, side, inf)
        caps = [inf]
        for zc in (-1.0, 1.0):
            t = (zc - q0[:, 2]) / torch.where(qd[:, 2].abs() < 1e-12, 1e-12, qd[:, 2])
            xy = q0[:, :2] + t[:, None] * qd[:, :2]
            caps.append(torch.where((t > 0) & ((xy**2).sum(-1) <= 1), t, inf))
        return torch.stack([side, *caps]).amin(0)
    raise ValueError(f"unknown shape kind {kind!r}")


def _quadric(q0: Tensor, qd: Tensor, inf: Tensor) -> Tensor:
    """First positive root of |q₀ + t q_d|² = 1 (a unit sphere / circle)."""
    a = (qd**2).sum(-1)
    b = 2 * (q0 * qd).sum(-1)
    c = (q0**2).sum(-1) - 1
    disc = b**2 - 4 * a * c
    t = (-b - disc.clamp_min(0).sqrt()) / (2 * a.clamp_min(1e-12))
    return torch.where((disc > 0) & (t > 0), t, inf)


def inside(kind: str, q: Tensor) -> Tensor:
    """Occupancy of canonical points (..., 3) (for the voxelised oracle)."""
    in_cube = (q.abs() <= 1).all(-1)
    if kind == "cube":
        return in_cube
    if kind == "sphere":
        return (q**2).sum(-1) <= 1
    return ((q[..., :2] ** 2).sum(-1) <= 1) & (q[..., 2].abs() <= 1)


def surface(kind: str, q: Tensor) -> tuple[Tensor, Tensor]:
    """Nearest surface point and canonical normal of canonical points (P, 3) of a shape."""
    if kind == "sphere":
        n = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        return n, n
    if kind == "cube":
        axis = q.abs().argmax(-1, keepdim=True)
        side = torch.where(q.gather(-1, axis) < 0, -1.0, 1.0)
        onehot = torch.zeros_like(q).scatter(-1, axis, 1.0)
        return torch.where(onehot > 0, side, q), onehot * side
    r = q[:, :2].norm(dim=-1, keepdim=True).clamp_min(1e-6)
    side = torch.where(q[:, 2:] < 0, -1.0, 1.0)
    on_cap = (1 - q[:, 2:].abs()) < (1 - r)
    cap_q, cap_n = torch.cat([q[:, :2], side], -1), torch.cat([0 * q[:, :2], side], -1)
    side_q = torch.cat([q[:, :2] / r, q[:, 2:]], -1)
    side_n = torch.cat([q[:, :2] / r, 0 * side], -1)
    return torch.where(on_cap, cap_q, side_q), torch.where(on_cap, cap_n, side_n)


def shape_colour(shape: Shape, qs: Tensor, n: Tensor) -> Tensor:
    """Albedo × Lambert shading, both in the object's canonical frame, of surface points (P, 3).

    Cubes: a tint per face plus stripes; spheres: six azimuth sectors and a lighter top;
    cylinders: four azimuth sectors and lighter caps (so turning an object is visible)."""
    base = torch.tensor(shape.rgb).expand(len(qs), 3)
    phi = torch.atan2(qs[:, 1], qs[:, 0])
    if shape.kind == "cube":
        axis = n.abs().argmax(-1)
        face = axis * 2 + (n.gather(-1, axis[:, None])[:, 0] > 0).long()
        along = qs.gather(-1, ((axis + 1) % 3)[:, None])[:, 0]
        stripe = torch.floor(2 * (along + 1)).long() % 2
        albedo = base * FACE_TINT[face] * (1 - 0.3 * stripe[:, None])
    elif shape.kind == "sphere":
        sector = torch.floor(3 * phi / math.pi).long() % 2
        albedo = base * (1 - 0.35 * sector[:, None]) * (1 + 0.25 * (qs[:, 2:] > 0.5))
    else:
        sector = torch.floor(2 * phi / math.pi).long() % 2
        cap = n[:, 2].abs() > 0.5
        albedo = base * (1 - 0.35 * sector[:, None] * (~cap[:, None])) * (1 + 0.3 * cap[:, None])
    nn = n / n.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    shade = 0.6 + 0.4 * (nn @ LIGHT).clamp_min(0)
    return (albedo * shade[:, None]).clamp(0, 1)


def room_colour(p: Tensor, face: Tensor) -> Tensor:
    """Floor checker (0.5 m), four coloured walls with a dado band and vertical stripes, ceiling.
    ``face``: 0/1 = -x/+x wall, 2/3 = -y/+y wall, 4 = floor, 5 = ceiling."""
    checker = (torch.floor(p[:, 0] / 0.5) + torch.floor(p[:, 1] / 0.5)).long() % 2
    floor = torch.where(
        checker[:, None] > 0, torch.tensor([0.75, 0.7, 0.6]), torch.tensor([0.45, 0.4, 0.35])
    )
    along = torch.where(face < 2, p[:, 1], p[:, 0])
    band = ((p[:, 2] > 0.8) & (p[:, 2] < 1.0)).float()
    stripe = (torch.floor(along / 0.5).long() % 2).float()
    wall = WALL_RGB[face.clamp(max=3)] * (1 - 0.35 * band - 0.12 * stripe)[:, None]
    ceiling = torch.tensor([0.85, 0.85, 0.85]).expand_as(wall)
    return torch.where(face[:, None] == 4, floor, torch.where(face[:, None] == 5, ceiling, wall))


# -- the renderer --------------------------------------------------------------------------------
@dataclass
class View:
    """Ground truth of one camera: rgb (H, W, 3), depth (H, W) along unit rays, instance and
    semantic ids (H, W) (0 = background), and each pixel's world hit point (H·W, 3)."""

    rgb: Tensor
    depth: Tensor
    instance: Tensor
    semantic: Tensor
    points: Tensor


def render_gt(scene: SceneGraph, cam: Camera) -> View:
    """Exact ray casting of an analytic scene graph (``Room`` background, ``Shape`` nodes)."""
    o, d = camera_rays(cam)
    room: Room = scene.background
    t1 = (torch.tensor(room.lo) - o) / d
    t2 = (torch.tensor(room.hi) - o) / d
    t_exit, axis = torch.maximum(t1, t2).min(-1)
    positive = torch.gather(t2 > t1, -1, axis[:, None])[:, 0]
    face = torch.where(axis == 2, 4 + positive.long(), axis * 2 + positive.long())
    depth, inst = t_exit.clone(), torch.zeros(len(o), dtype=torch.long)
    for k, node in enumerate(scene.nodes, start=1):
        t = intersect(node.content.kind, node.box.to_local(o), node.box.dir_to_local(d))
        closer = t < depth
        depth, inst = torch.where(closer, t, depth), torch.where(closer, k, inst)
    p = o + depth[:, None] * d
    rgb = room_colour(p, face)
    ids = torch.tensor([0, *scene.ids()])
    labels = torch.tensor([0, *(n.semantic_id for n in scene.nodes)])
    for k, node in enumerate(scene.nodes, start=1):
        sel = inst == k
        if sel.any():
            q = node.box.to_local(p[sel])
            qs, n = surface(node.content.kind, q)
            rgb[sel] = shape_colour(node.content, qs, n)
    hw = (cam.height, cam.width)
    return View(
        rgb.reshape(*hw, 3),
        depth.reshape(hw),
        ids[inst].reshape(hw),
        labels[inst].reshape(hw),
        p,
    )


# -- the two scenes, cameras, visibility -----------------------------------------------------------
RGB = {  # base albedo of each colour attribute
    "brown": (0.6, 0.4, 0.25),
    "blue": (0.25, 0.4, 0.8),
    "red": (0.9, 0.2, 0.15),
    "green": (0.2, 0.7, 0.3),
    "orange": (0.95, 0.6, 0.2),
    "purple": (0.6, 0.3, 0.7),
    "yellow": (0.9, 0.85, 0.3),
}


def _object(scene: str, i: int, label: str, colour: str, kind: str, xy, half, yaw: float):
    """A node standing on the floor at ``xy`` with half extents ``half`` and its yaw."""
    box = Box((xy[0], xy[1], half[2]), yaw, half)
    return new_node(i, label, colour, box, Shape(kind, RGB[colour]), scene)


def room_a() -> SceneGraph:
    """The main room: two tables (one class, two instances), a cabinet, a ball and a bin."""
    nodes = (
        _object("A", 1, "table", "brown", "cube", (-0.5, 0.4), (0.5, 0.3, 0.25), 0.3),
        _object("A", 2, "cabinet", "blue", "cube", (0.7, 0.6), (0.25, 0.25, 0.45), -0.2),
        _object("A", 3, "ball", "red", "sphere", (0.3, -0.5), (0.2, 0.2, 0.2), 0.0),
        _object("A", 4, "bin", "green", "cylinder", (-0.6, -0.6), (0.15, 0.15, 0.2), 0.0),
        _object("A", 5, "table", "orange", "cube", (0.9, -0.3), (0.3, 0.3, 0.22), 0.6),
    )
    return SceneGraph("A", Room(), nodes)


def room_b() -> SceneGraph:
    """The second room (cross-scene edits): a chair and a lamp."""
    nodes = (
        _object("B", 1, "chair", "purple", "cube", (0.3, 0.2), (0.22, 0.22, 0.4), 0.4),
        _object("B", 2, "lamp", "yellow", "cylinder", (-0.4, -0.3), (0.12, 0.12, 0.35), 0.0),
    )
    return SceneGraph("B", Room(), nodes)


def ring_cameras(
    n: int, width: int, height: int, fov_deg: float, seed: int | None, offset: float = 0.0
) -> list[Camera]:
    """``n`` cameras on a ring of radius 1.75 m at two heights, looking at the room centre;
    ``seed`` jitters angle, height and target (None: the fixed held-out ring)."""
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    cams = []
    for k in range(n):
        jit = torch.rand(4, generator=g) - 0.5 if g is not None else torch.zeros(4)
        ang = 2 * math.pi * (k + offset) / n + 0.06 * jit[0]
        h = 1.45 if g is None else (1.2 if k % 2 == 0 else 1.7) + 0.2 * float(jit[1])
        origin = torch.tensor([1.75 * math.cos(ang), 1.75 * math.sin(ang), h])
        target = torch.tensor([0.2 * jit[2], 0.2 * jit[3], 0.3])
        cams.append(look_at(origin, target, width, height, math.radians(fov_deg)))
    return cams


def seen_mask(
    scene: SceneGraph, view: View, train: dict[str, tuple[list[Camera], list[View]]]
) -> Tensor:
    """Pixels of a (possibly edited) GT view whose surface point some training view observed.

    Each point is mapped back to where its content was observed (``source_box``, background
    points stay put) and projected into that scene's training views: seen when the training
    pixel shows the same source instance at the same distance (±5 cm)."""
    inst = view.instance.reshape(-1)
    src_p, src_id = view.points.clone(), torch.zeros_like(inst)
    seen = torch.zeros(len(inst), dtype=torch.bool)
    groups: dict[str, Tensor] = {scene.scene_id: inst == 0}
    for node in scene.nodes:
        sel = inst == node.node_id
        src_p[sel] = node.source_box.to_world(node.box.to_local(view.points[sel]))
        src_id[sel] = node.source_id
        groups.setdefault(node.source_scene, torch.zeros_like(sel))
        groups[node.source_scene] = groups[node.source_scene] | sel
    for sid, sel in groups.items():
        cams, views = train[sid]
        p, ids = src_p[sel], src_id[sel]
        ok = torch.zeros(len(p), dtype=torch.bool)
        for cam, tv in zip(cams, views, strict=True):
            row, col, front = project(cam, p)
            dist = (p - torch.tensor(cam.origin)).norm(dim=-1)
            same = tv.instance[row, col] == ids
            close = (tv.depth[row, col] - dist).abs() < 0.05
            ok |= front & same & close
        seen[sel] = ok
    return seen.reshape(view.depth.shape)
