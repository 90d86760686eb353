"""The oracle: the GT primitives voxelised into the same grids, rendered by the same renderer.

It is the reference that sets this project's held-out thresholds (design risk 3): whatever the
grid resolution, the sampling and the compositing cost, the oracle pays too, so a trained model is
judged against what its representation can reach, not against the analytic images alone.
"""

from __future__ import annotations

import torch

from assist.fields import GridBank
from assist.render import BOX_MARGIN, ROOM_MARGIN
from assist.room import Room, Shape, inside, room_colour, shape_colour, surface

SOLID = 8.0  # raw density of an occupied voxel (σ = 800 /m); voxel midpoints: raw 0, σ = 69 /m
EMPTY = -20.0  # σ ≈ 2e-7 /m: no fog along a 5 m ray


def _centres(res: tuple[int, int, int]) -> torch.Tensor:
    """Voxel-centre canonical coordinates (Z, Y, X, 3) of a grid with align_corners=True."""
    x, y, z = (torch.linspace(-1, 1, r) for r in res)
    zz, yy, xx = torch.meshgrid(z, y, x, indexing="ij")
    return torch.stack([xx, yy, zz], -1)


def _logit(c: torch.Tensor) -> torch.Tensor:
    c = c.clamp(1e-3, 1 - 1e-3)
    return torch.log(c / (1 - c))


def shape_grid(shape: Shape, res: tuple[int, int, int]) -> torch.Tensor:
    """(4, Z, Y, X) raw grid of one object: solid inside, its surface colour everywhere."""
    qf = _centres(res)
    q = (qf * BOX_MARGIN).reshape(-1, 3)  # field-box coordinates → object canonical
    occ = inside(shape.kind, q)
    qs, n = surface(shape.kind, q)
    rgb = shape_colour(shape, qs, n)
    raw = torch.cat([torch.where(occ, SOLID, EMPTY)[:, None], _logit(rgb)], -1)
    return raw.T.reshape(4, *qf.shape[:3])


def room_grid(room: Room, res: tuple[int, int, int]) -> torch.Tensor:
    """(4, Z, Y, X) raw grid of the room: solid behind walls, floor and ceiling."""
    box = room.box
    qf = _centres(res).reshape(-1, 3)
    half = torch.tensor(box.half) + ROOM_MARGIN
    p = qf * half + torch.tensor(box.centre)
    lo, hi = torch.tensor(room.lo), torch.tensor(room.hi)
    solid = ((p < lo) | (p > hi)).any(-1)
    gaps = torch.cat([p - lo, hi - p], -1)  # distance to each face: -x, -y, -z, +x, +y, +z
    nearest = gaps.argmin(-1)
    axis, positive = nearest % 3, nearest >= 3
    face = torch.where(axis == 2, 4 + positive.long(), axis * 2 + positive.long())
    on_wall = torch.minimum(torch.maximum(p, lo), hi)
    rgb = room_colour(on_wall, face)
    raw = torch.cat([torch.where(solid, SOLID, EMPTY)[:, None], _logit(rgb)], -1)
    return raw.T.reshape(4, res[2], res[1], res[0])


def oracle_banks(
    gt, object_res: int, background_res: tuple[int, int, int]
) -> tuple[GridBank, GridBank]:
    """Object and background banks of one room filled with its voxelised GT."""
    r = (object_res,) * 3
    objects, background = GridBank(len(gt.nodes), r), GridBank(1, background_res)
    with torch.no_grad():
        for k, node in enumerate(gt.nodes):
            objects.grid[k] = shape_grid(node.content, r)
        background.grid[0] = room_grid(gt.background, background_res)
    return objects, background
