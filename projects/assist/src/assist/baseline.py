"""The monolithic baseline: one field over the whole room with an instance head (Semantic-NeRF
style), trained with the same budget, and edited DM-NeRF-style (design risk 7).

Field: a dense grid over the room with density, colour and K+1 instance logits (about as many
voxels as all ASSIST nodes together). Loss: depth L1 + colour L1 + instance cross-entropy of the
rendered instance distribution Σ wᵢ softmax(ℓᵢ).

Editing without nodes: every edited instance is a *layer*: at a world point x the layer reads the
field at the point x' its edit maps x back to (``source_box`` ∘ ``box⁻¹``, the ray bending of
DM-NeRF), keeps only that instance's share of density σ(x') p_k(x') and lives inside the edited
box. The instances that moved away, were deleted or swapped are removed from the base field by
σ(x)(1 − Σ p_k(x)). What the field never saw (under a moved object) stays as it was learnt.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from assist.configs import Config
from assist.fields import activate
from assist.geometry import Box, ray_box
from assist.nodes import SceneGraph
from assist.render import NEAR, alphas, evenly, field_box, weights
from assist.train import Rays, training_samples


class MonolithicField(nn.Module):
    """One field over the room box: a density + RGB grid of ``res`` and an instance-logit grid
    (``n_instances`` channels) at half that resolution."""

    def __init__(self, room: Box, res: tuple[int, int, int], n_instances: int) -> None:
        super().__init__()
        self.box = field_box(room, True)
        x, y, z = res
        grid = torch.zeros(1, 4, z, y, x)
        grid[:, 0] = -8.0
        self.grid = nn.Parameter(grid)
        self.instance_grid = nn.Parameter(torch.zeros(1, n_instances, z // 2, y // 2, x // 2))

    def forward(self, p: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """World points (P, 3) → σ (P,), colour (P, 3), instance probabilities (P, K+1)."""
        q = self.box.to_local(p)
        at = q[None, :, None, None, :]
        raw = F.grid_sample(self.grid, at, align_corners=True)[0, :, :, 0, 0].T
        logits = F.grid_sample(self.instance_grid, at, align_corners=True)[0, :, :, 0, 0].T
        sigma, rgb = activate(raw, q)
        return sigma, rgb, logits.softmax(-1)


def matched_rays(cfg: Config, n_objects: int) -> int:
    """Rays per baseline step with as many field samples as one ASSIST step (all nodes)."""
    tc = cfg.train
    assist = tc.rays_background * (tc.samples_background + tc.samples_surface)
    assist += n_objects * tc.rays_object * (tc.samples_object + tc.samples_surface)
    return max(1, assist // (tc.samples_background + tc.samples_surface))


def baseline_loss(field: MonolithicField, batch: Rays, cfg: Config, g: torch.Generator) -> Tensor:
    """Depth L1 + colour L1 + instance cross-entropy on one batch of rays."""
    tc = cfg.train
    t_near, t_far, _ = ray_box(field.box.to_local(batch.o), field.box.dir_to_local(batch.d))
    t_near = t_near.clamp_min(NEAR)
    own = torch.ones_like(batch.depth, dtype=torch.bool)
    t = training_samples(t_near, t_far, batch.depth, own, cfg, tc.samples_background, g)
    p = batch.o[:, None] + t[..., None] * batch.d[:, None]
    sigma, rgb, prob = field(p.reshape(-1, 3))
    sigma, rgb, prob = sigma.reshape(t.shape), rgb.reshape(*t.shape, 3), prob.reshape(*t.shape, -1)
    w = weights(alphas(sigma, t, t_far))
    colour, depth = (w[..., None] * rgb).sum(-2), (w * t).sum(-1)
    inst = (w[..., None] * prob).sum(-2).clamp_min(1e-6)
    ce = -torch.log(inst.gather(-1, batch.instance[:, None])[:, 0] / inst.sum(-1))
    loss = tc.w_depth * (depth - batch.depth).abs().mean()
    loss = loss + tc.w_colour * (colour - batch.rgb).abs().sum(-1).mean()
    return loss + tc.w_instance * ce.mean()


def changed_nodes(original: SceneGraph, edited: SceneGraph) -> tuple[set[int], list]:
    """Ids whose original placement is vacated, and the edited nodes that need a layer."""
    before = {n.node_id: n for n in original.nodes}
    removed, layers = set(), []
    for n in edited.nodes:
        old = before.get(n.node_id)
        if old is None or old.box != n.box or old.source_id != n.source_id:
            layers.append(n)
            if old is not None:
                removed.add(n.node_id)
    removed |= set(before) - set(edited.ids())
    return removed, layers


def _base_samples(field: MonolithicField, o: Tensor, d: Tensor, n: int, view, cache: dict):
    """Evenly spaced samples over the room and the field there (cached per view)."""
    if view is not None and view in cache:
        return cache[view]
    t_near, t_far, _ = ray_box(field.box.to_local(o), field.box.dir_to_local(d))
    t = evenly(t_near.clamp_min(NEAR), t_far, n)
    x = (o[:, None] + t[..., None] * d[:, None]).reshape(-1, 3)
    out = (t, t_far, x, *field(x))
    if view is not None:
        cache[view] = out
    return out


@torch.no_grad()
def render_edited(
    field: MonolithicField,
    original: SceneGraph,
    edited: SceneGraph,
    o: Tensor,
    d: Tensor,
    cfg: Config,
    view=None,
    cache: dict | None = None,
) -> dict:
    """Render the baseline under an edit (the unedited scene when ``edited`` is ``original``),
    with as many samples per ray as ASSIST's renderer spends on the unedited scene, evenly
    spaced over the room."""
    removed, layers = changed_nodes(original, edited)
    if any(n.source_scene != original.scene_id for n in layers):
        raise ValueError("the monolithic baseline holds one room only: no cross-scene insert")
    rc = cfg.render
    n = rc.samples_background + rc.samples_object * len(original.nodes)
    t, t_far, x, sigma, rgb, prob = _base_samples(
        field, o, d, n, view, {} if cache is None else cache
    )
    n_ids = max([*edited.ids(), *original.ids()]) + 1
    gone = sorted(removed)
    keep = 1 - prob[:, gone].sum(-1) if gone else torch.ones_like(sigma)
    base_p = prob.clone()
    base_p[:, gone] = 0
    total = sigma * keep
    colour = rgb * total[:, None]
    inst_w = F.pad(base_p * total[:, None], (0, n_ids - prob.shape[1]))
    for node in layers:  # DM-NeRF-style: read the instance where it was, inside its new box
        inside = (field_box(node.box, False).to_local(x).abs() <= 1).all(-1)
        x_src = node.source_box.to_world(node.box.to_local(x[inside]))
        s2, c2, p2 = field(x_src)
        s2 = s2 * p2[:, node.source_id]
        total[inside] += s2
        colour[inside] += c2 * s2[:, None]
        inst_w[inside, node.node_id] += s2
    colour = colour / total.clamp_min(1e-8)[:, None]
    inst_p = inst_w / inst_w.sum(-1, keepdim=True).clamp_min(1e-8)
    R, S = t.shape
    w = weights(alphas(total.reshape(R, S), t, t_far))
    per_id = (w[..., None] * inst_p.reshape(R, S, -1)).sum(1)
    winner = per_id.argmax(1)
    labels = torch.zeros(n_ids, dtype=torch.long)
    for node in edited.nodes:
        labels[node.node_id] = node.semantic_id
    return {
        "rgb": (w[..., None] * colour.reshape(R, S, 3)).sum(1),
        "depth": (w * t).sum(1),
        "instance": winner,
        "semantic": labels[winner],
    }
