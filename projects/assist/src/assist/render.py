"""Volume rendering of one node and the compositional renderer of a whole scene graph.

Per node (eq. of NeRF with α compositing): samples t₁ < … < t_S inside the node's box interval,
δᵢ = tᵢ₊₁ − tᵢ (the last up to the interval's end), αᵢ = 1 − exp(−σᵢ δᵢ). Each node's α come from
its own samples, so they do not depend on which other nodes share the ray.

Compositional rendering (ASSIST's core mechanism): every ray is carried into each node's canonical
frame with the node's *current* box, sampled there, and the samples of all nodes and the background
are merged in depth order under one transmittance, wᵢ = αᵢ Πⱼ<ᵢ (1 − αⱼ). Colour Σ wᵢ cᵢ, depth
Σ wᵢ tᵢ and the panoptic id argmaxₖ Σ_{i ∈ node k} wᵢ all come from the same weights. No GT depth
enters: evaluation samples are evenly spaced over each box interval.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from assist.geometry import Box, ray_box
from assist.nodes import FieldRef, SceneGraph

NEAR = 0.05  # closest sample to a camera (m)
BOX_MARGIN = 1.1  # a node's field box = its object box × 1.1 (room for imprecise surfaces)
ROOM_MARGIN = 0.1  # the background field's box reaches 10 cm behind walls, floor, ceiling


@dataclass(frozen=True)
class Fields:
    """The trained banks by name (``FieldRef.bank``), how to sample them, and a cache of each
    node's samples per view (``render_graph``)."""

    banks: dict
    samples_object: int = 64
    samples_background: int = 160
    cache: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Background:
    """The trained background (stuff) node: its field and the room box it spans."""

    field: FieldRef
    box: Box


def field_box(box: Box, background: bool) -> Box:
    """The box a node's field spans: objects get ``BOX_MARGIN``, the background ``ROOM_MARGIN``."""
    if background:
        return Box(box.centre, box.yaw, tuple(h + ROOM_MARGIN for h in box.half))
    return box.scaled(BOX_MARGIN)


def alphas(sigma: Tensor, t: Tensor, t_end: Tensor) -> Tensor:
    """αᵢ = 1 − exp(−σᵢ δᵢ), δᵢ = tᵢ₊₁ − tᵢ, the last δ up to ``t_end``; t sorted, (…, S)."""
    delta = torch.cat([t[..., 1:] - t[..., :-1], (t_end[..., None] - t[..., -1:])], -1)
    return 1.0 - torch.exp(-sigma * delta.clamp_min(0))


def weights(alpha: Tensor) -> Tensor:
    """wᵢ = αᵢ Πⱼ<ᵢ (1 − αⱼ) along the last axis."""
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[..., :1]), 1 - alpha[..., :-1]], -1), -1)
    return alpha * trans


def evenly(t_near: Tensor, t_far: Tensor, n: int) -> Tensor:
    """n bin midpoints of [t_near, t_far], (R, n) (evaluation: deterministic, no GT depth)."""
    u = (torch.arange(n, dtype=t_near.dtype) + 0.5) / n
    return t_near[:, None] + (t_far - t_near)[:, None] * u


def composite(t: Tensor, alpha: Tensor, rgb: Tensor, owner: Tensor, n_owners: int) -> dict:
    """Merge samples of several nodes (R, S) in depth order under one transmittance (the
    weights are computed in sorted order and scattered back to the samples)."""
    order = t.argsort(-1)
    w = torch.zeros_like(alpha).scatter_(1, order, weights(alpha.gather(-1, order)))
    per_owner = torch.zeros(len(t), n_owners).scatter_add_(1, owner, w)
    return {
        "rgb": (w[..., None] * rgb).sum(1),
        "depth": (w * t.clamp_max(1e3)).sum(1),
        "opacity": w.sum(1),
        "owner_weight": per_owner,
    }


def node_samples(
    fields: Fields, content, box: Box, query_box: Box, o: Tensor, d: Tensor, n: int, bg: bool
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One node's samples on the rays that cross its box: (hit (R,), t, α, rgb (H, n[, 3])),
    sampled in ``box``, the field read in the canonical frame of ``query_box`` (the node's own
    box, or the source box of the wrong-frame control)."""
    fb, qb = field_box(box, bg), field_box(query_box, bg)
    t_near, t_far, hit = ray_box(fb.to_local(o), fb.dir_to_local(d))
    t_near = t_near.clamp_min(NEAR)
    hit = hit & (t_far > t_near)
    th = evenly(t_near[hit], t_far[hit], n)
    p = o[hit, None] + th[..., None] * d[hit, None]
    bank = fields.banks[content.bank]
    sigma, c = bank(qb.to_local(p).reshape(1, -1, 3), torch.tensor([content.index]))
    sigma, c = sigma.reshape(th.shape), c.reshape(*th.shape, 3)
    return hit, th, alphas(sigma, th, t_far[hit]), c


def _expand(part: tuple[Tensor, Tensor, Tensor, Tensor], rows: Tensor) -> tuple[Tensor, ...]:
    """A node's samples on the rays ``rows``; rays that miss it get samples far away, α = 0."""
    hit, th, alpha, rgb = part
    n, sel = th.shape[1], hit[rows]
    where = torch.cumsum(hit.long(), 0)[rows][sel] - 1  # index of each selected ray among hits
    t, a = torch.full((len(rows), n), 1e4), torch.zeros(len(rows), n)
    c = torch.zeros(len(rows), n, 3)
    t[sel], a[sel], c[sel] = th[where], alpha[where], rgb[where]
    return t, a, c


def _composite_parts(parts: list, n_rays: int) -> dict:
    """Composite the background part and the object parts: rays that cross no object box take
    the background's (sorted) samples alone; the others merge every node's samples."""
    crossed = torch.zeros(n_rays, dtype=torch.bool)
    for hit, *_ in parts[1:]:
        crossed |= hit
    alone, mixed = torch.nonzero(~crossed).squeeze(1), torch.nonzero(crossed).squeeze(1)
    out = {
        "rgb": torch.zeros(n_rays, 3),
        "depth": torch.zeros(n_rays),
        "opacity": torch.zeros(n_rays),
        "owner_weight": torch.zeros(n_rays, len(parts)),
    }
    t, a, c = _expand(parts[0], alone)
    w = weights(a)
    out["rgb"][alone], out["depth"][alone] = (
        (w[..., None] * c).sum(1),
        (w * t.clamp_max(1e3)).sum(1),
    )
    out["opacity"][alone] = out["owner_weight"][alone, 0] = w.sum(1)
    if len(mixed):
        ex = [_expand(p, mixed) for p in parts]
        t, a, c = (torch.cat([e[i] for e in ex], 1) for i in range(3))
        owner = torch.cat([torch.full_like(e[1], k, dtype=torch.long) for k, e in enumerate(ex)], 1)
        for key, value in composite(t, a, c, owner, len(parts)).items():
            out[key][mixed] = value
    return out


@torch.no_grad()
def render_graph(
    graph: SceneGraph,
    fields: Fields,
    o: Tensor,
    d: Tensor,
    frame: str = "node",
    view: Hashable | None = None,
) -> dict:
    """Render a graph of trained nodes: rgb (R, 3), depth (R,), instance and semantic ids (R,).

    ``frame="source"`` is the wrong-method control: each node is sampled in its current box but
    its field is read in the frame of the box it was trained in (a world-frame query). With a
    ``view`` key, each node's samples are cached per (view, content, box, frame): an edit then
    evaluates only the nodes it changed (same numbers, less time)."""
    room = graph.background
    jobs = [(room.field, room.box, room.box, fields.samples_background, True)]
    for node in graph.nodes:
        query = node.source_box if frame == "source" else node.box
        jobs.append((node.content, node.box, query, fields.samples_object, False))
    parts = []
    for job in jobs:
        key = (view, *job)
        part = fields.cache.get(key) if view is not None else None
        if part is None:
            part = node_samples(fields, job[0], job[1], job[2], o, d, job[3], job[4])
            if view is not None:
                fields.cache[key] = part
        parts.append(part)
    out = _composite_parts(parts, len(o))
    winner = out["owner_weight"].argmax(1)
    out["instance"] = torch.tensor([0, *graph.ids()])[winner]
    out["semantic"] = torch.tensor([0, *(n.semantic_id for n in graph.nodes)])[winner]
    return out
