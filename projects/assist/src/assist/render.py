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

from dataclasses import dataclass

import torch
from torch import Tensor

from assist.geometry import Box, ray_box
from assist.nodes import FieldRef, SceneGraph

NEAR = 0.05  # closest sample to a camera (m)
BOX_MARGIN = 1.1  # a node's field box = its object box × 1.1 (room for imprecise surfaces)
ROOM_MARGIN = 0.1  # the background field's box reaches 10 cm behind walls, floor, ceiling


@dataclass(frozen=True)
class Fields:
    """The trained banks by name (``FieldRef.bank``) and how to sample them."""

    banks: dict
    samples_object: int = 64
    samples_background: int = 160


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
    """Merge samples of several nodes (R, S) in depth order under one transmittance."""
    t, order = t.sort(-1)
    alpha, owner = alpha.gather(-1, order), owner.gather(-1, order)
    rgb = rgb.gather(1, order[..., None].expand_as(rgb))
    w = weights(alpha)
    per_owner = torch.zeros(len(t), n_owners).scatter_add_(1, owner, w)
    return {
        "rgb": (w[..., None] * rgb).sum(1),
        "depth": (w * t.clamp_max(1e3)).sum(1),
        "opacity": w.sum(1),
        "owner_weight": per_owner,
    }


def node_samples(
    fields: Fields, content, box: Box, query_box: Box, o: Tensor, d: Tensor, n: int, bg: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """One node's (t, α, rgb) on every ray, (R, n): sampled in ``box``, field read in the
    canonical frame of ``query_box`` (the node's own box, or the source box of the wrong-frame
    control). Rays that miss the box get α = 0."""
    fb, qb = field_box(box, bg), field_box(query_box, bg)
    t_near, t_far, hit = ray_box(fb.to_local(o), fb.dir_to_local(d))
    t_near = t_near.clamp_min(NEAR)
    hit = hit & (t_far > t_near)
    R = len(o)
    t = torch.full((R, n), 1e4)
    alpha, rgb = torch.zeros(R, n), torch.zeros(R, n, 3)
    if hit.any():
        th = evenly(t_near[hit], t_far[hit], n)
        p = o[hit, None] + th[..., None] * d[hit, None]
        bank = fields.banks[content.bank]
        sigma, c = bank(qb.to_local(p).reshape(1, -1, 3), torch.tensor([content.index]))
        sigma, c = sigma.reshape(th.shape), c.reshape(*th.shape, 3)
        t[hit], alpha[hit], rgb[hit] = th, alphas(sigma, th, t_far[hit]), c
    return t, alpha, rgb


@torch.no_grad()
def render_graph(
    graph: SceneGraph, fields: Fields, o: Tensor, d: Tensor, frame: str = "node"
) -> dict:
    """Render a graph of trained nodes: rgb (R, 3), depth (R,), instance and semantic ids (R,).

    ``frame="source"`` is the wrong-method control: each node is sampled in its current box but
    its field is read in the frame of the box it was trained in (a world-frame query)."""
    room = graph.background
    parts = [
        node_samples(fields, room.field, room.box, room.box, o, d, fields.samples_background, True)
    ]
    for node in graph.nodes:
        query = node.source_box if frame == "source" else node.box
        parts.append(
            node_samples(fields, node.content, node.box, query, o, d, fields.samples_object, False)
        )
    t, alpha, rgb = (torch.cat([p[i] for p in parts], 1) for i in range(3))
    owner = torch.cat([torch.full_like(p[1], k, dtype=torch.long) for k, p in enumerate(parts)], 1)
    out = composite(t, alpha, rgb, owner, len(parts))
    winner = out["owner_weight"].argmax(1)
    out["instance"] = torch.tensor([0, *graph.ids()])[winner]
    out["semantic"] = torch.tensor([0, *(n.semantic_id for n in graph.nodes)])[winner]
    return out
