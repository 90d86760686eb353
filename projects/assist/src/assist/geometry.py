"""Boxes, cameras and rays: the geometry every scene node and the analytic renderer share.

Conventions: world z is up; a node's oriented box is (centre c, yaw θ about z, half extents h);
its canonical frame maps the box onto [-1, 1]³: q = diag(1/h) R(θ)ᵀ (p − c). Because the map is
affine, a ray p(t) = o + t·d keeps its parameter t in the canonical frame (q(t) = q₀ + t·q_d), so
depths found there are world distances along unit-norm world directions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import Tensor


@dataclass(frozen=True)
class Box:
    """An oriented box: centre (m), yaw about the vertical axis (rad), half extents (m)."""

    centre: tuple[float, float, float]
    yaw: float
    half: tuple[float, float, float]

    def rotation(self) -> Tensor:
        """R(θ), the rotation about the vertical axis (3, 3)."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    def to_local(self, p: Tensor) -> Tensor:
        """World points (..., 3) → canonical coordinates in [-1, 1]³ inside the box."""
        rel = p - torch.tensor(self.centre, dtype=p.dtype)
        return (rel @ self.rotation().to(p.dtype)) / torch.tensor(self.half, dtype=p.dtype)

    def dir_to_local(self, d: Tensor) -> Tensor:
        """World directions (..., 3) → canonical-frame directions (not renormalised)."""
        return (d @ self.rotation().to(d.dtype)) / torch.tensor(self.half, dtype=d.dtype)

    def to_world(self, q: Tensor) -> Tensor:
        """Canonical coordinates (..., 3) → world points."""
        local = q * torch.tensor(self.half, dtype=q.dtype)
        return local @ self.rotation().to(q.dtype).T + torch.tensor(self.centre, dtype=q.dtype)

    def scaled(self, factor: float) -> Box:
        """The same box with half extents × factor (a node's field box has a small margin)."""
        return replace(self, half=tuple(h * factor for h in self.half))

    def moved(self, translation: tuple[float, float, float] = (0, 0, 0), yaw: float = 0.0) -> Box:
        """The box translated and turned about its own vertical axis (an edit's rigid map)."""
        centre = tuple(c + t for c, t in zip(self.centre, translation, strict=True))
        return replace(self, centre=centre, yaw=self.yaw + yaw)


def ray_box(q0: Tensor, qd: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Slab intersection of canonical rays q₀ + t·q_d with the cube [-1, 1]³.

    Returns (t_near, t_far, hit), each (R,): t_near is clamped at 0 (the camera may sit inside
    the box), hit = t_far > t_near."""
    safe = torch.where(qd.abs() < 1e-12, torch.full_like(qd, 1e-12), qd)
    t1, t2 = (-1.0 - q0) / safe, (1.0 - q0) / safe
    t_near = torch.minimum(t1, t2).amax(-1).clamp_min(0.0)
    t_far = torch.maximum(t1, t2).amin(-1)
    return t_near, t_far, t_far > t_near


@dataclass(frozen=True)
class Camera:
    """A pinhole camera: position, rotation (columns: right, up, forward), image size, fov."""

    origin: tuple[float, float, float]
    rotation: tuple[tuple[float, float, float], ...]
    width: int
    height: int
    fov_x: float  # horizontal field of view (rad)

    def focal(self) -> float:
        """Focal length in pixels."""
        return 0.5 * self.width / math.tan(0.5 * self.fov_x)


def look_at(origin: Tensor, target: Tensor, width: int, height: int, fov_x: float) -> Camera:
    """A camera at ``origin`` looking at ``target`` with world z up."""
    f = target - origin
    f = f / f.norm()
    r = torch.linalg.cross(f, torch.tensor([0.0, 0.0, 1.0]))
    r = r / r.norm()
    u = torch.linalg.cross(r, f)
    rot = torch.stack([r, u, f], 1)
    return Camera(tuple(origin.tolist()), tuple(map(tuple, rot.tolist())), width, height, fov_x)


def camera_rays(cam: Camera) -> tuple[Tensor, Tensor]:
    """Ray origins and unit directions of every pixel centre, row-major: (H·W, 3) each."""
    v, u = torch.meshgrid(
        torch.arange(cam.height, dtype=torch.float32),
        torch.arange(cam.width, dtype=torch.float32),
        indexing="ij",
    )
    x = (u + 0.5 - 0.5 * cam.width) / cam.focal()
    y = -(v + 0.5 - 0.5 * cam.height) / cam.focal()
    local = torch.stack([x, y, torch.ones_like(x)], -1).reshape(-1, 3)
    d = local @ torch.tensor(cam.rotation).T
    d = d / d.norm(dim=-1, keepdim=True)
    return torch.tensor(cam.origin).expand_as(d), d


def project(cam: Camera, p: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """World points (P, 3) → (pixel row, pixel column, in-front-and-inside mask)."""
    rel = (p - torch.tensor(cam.origin)) @ torch.tensor(cam.rotation)
    z = rel[:, 2].clamp_min(1e-6)
    col = torch.floor(rel[:, 0] / z * cam.focal() + 0.5 * cam.width).long()
    row = torch.floor(-rel[:, 1] / z * cam.focal() + 0.5 * cam.height).long()
    ok = (rel[:, 2] > 1e-3) & (col >= 0) & (col < cam.width) & (row >= 0) & (row < cam.height)
    return row.clamp(0, cam.height - 1), col.clamp(0, cam.width - 1), ok
