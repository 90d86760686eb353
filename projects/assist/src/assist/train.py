"""Per-node training (vMAP's losses) of every object node and the background node.

Each object node draws its rays from the pixels whose rays cross its box (a superset of its 2-D
mask box), samples them inside the box (stratified, plus Gaussian samples around the GT depth on
its own pixels) and is trained alone, all nodes of a bank in one batched call:

  L = Σ_own |D − d| · w_depth + Σ_own |C − c|₁ · w_colour + Σ_all |O − 1[own]| · w_opacity
      + Σ_own Σ_{tᵢ < d − 3σ} wᵢ · w_free,

with D, C, O the node's rendered depth, colour and opacity. The last (line-of-sight) term is ours
(README, Deviations): a dense grid, unlike vMAP's MLPs, does not interpolate free space, and
without it the background fills with floaters. On another node's pixels the samples
stop at d + ε (the design-risk fix: an occluded node is not carved by the pixels of its occluder;
vMAP uses [near, d + 0.05]). The background node is trained the same way over the whole room.
GT depth is used here only, never at evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from assist.configs import Config
from assist.fields import make_bank
from assist.geometry import Box, Camera, camera_rays, ray_box
from assist.nodes import FieldRef, SceneGraph
from assist.render import NEAR, Background, alphas, field_box, weights
from assist.room import View


@dataclass
class Rays:
    """All training pixels of one room, flattened over views."""

    o: Tensor
    d: Tensor
    rgb: Tensor
    depth: Tensor
    instance: Tensor

    def take(self, idx: Tensor) -> Rays:
        return Rays(*(x[idx] for x in (self.o, self.d, self.rgb, self.depth, self.instance)))


def make_rays(cams: list[Camera], views: list[View]) -> Rays:
    """Stack the training views' rays and GT (rgb, depth, instance)."""
    o, d = zip(*(camera_rays(c) for c in cams), strict=True)
    return Rays(
        torch.cat(o),
        torch.cat(d),
        torch.cat([v.rgb.reshape(-1, 3) for v in views]),
        torch.cat([v.depth.reshape(-1) for v in views]),
        torch.cat([v.instance.reshape(-1) for v in views]),
    )


def box_pool(rays: Rays, box: Box) -> Tensor:
    """Indices of the training rays that cross a node's field box."""
    t_near, t_far, hit = ray_box(box.to_local(rays.o), box.dir_to_local(rays.d))
    return torch.nonzero(hit & (t_far > t_near.clamp_min(NEAR))).squeeze(1)


def training_samples(
    t_near: Tensor, t_far: Tensor, depth: Tensor, own: Tensor, cfg: Config, n_strat: int, g
) -> Tensor:
    """Sorted sample depths (…, S): stratified in [t_near, t_far] plus ``samples_surface``
    Gaussian samples N(d, σ²) (clipped to ±3σ and to the interval) on own pixels, uniform ones
    elsewhere."""
    tc = cfg.train
    u = (torch.arange(n_strat) + torch.rand(*t_near.shape, n_strat, generator=g)) / n_strat
    span = (t_far - t_near)[..., None]
    strat = t_near[..., None] + span * u
    eps = torch.randn(*t_near.shape, tc.samples_surface, generator=g).clamp(-3, 3)
    surf = depth[..., None] + tc.surface_sigma * eps
    uni = t_near[..., None] + span * torch.rand(*t_near.shape, tc.samples_surface, generator=g)
    extra = torch.where(own[..., None], surf, uni)
    extra = torch.minimum(torch.maximum(extra, t_near[..., None]), t_far[..., None])
    return torch.cat([strat, extra], -1).sort(-1).values


def node_losses(
    bank: nn.Module,
    boxes: list[Box],
    ids: list[int],
    batch: list[Rays],
    cfg: Config,
    n_strat: int,
    g: torch.Generator,
    mask_loss: bool = True,
    index: Tensor | None = None,
) -> Tensor:
    """The vMAP loss of N nodes of one bank on their own ray batches, in one batched call."""
    o, d = torch.stack([b.o for b in batch]), torch.stack([b.d for b in batch])  # (N, R, 3)
    depth = torch.stack([b.depth for b in batch])
    own = torch.stack([b.instance == i for b, i in zip(batch, ids, strict=True)])
    q0 = torch.stack([bx.to_local(oo) for bx, oo in zip(boxes, o, strict=True)])
    qd = torch.stack([bx.dir_to_local(dd) for bx, dd in zip(boxes, d, strict=True)])
    t_near, t_far, _ = ray_box(q0.reshape(-1, 3), qd.reshape(-1, 3))
    t_near, t_far = t_near.reshape(own.shape).clamp_min(NEAR), t_far.reshape(own.shape)
    t_far = torch.where(own, t_far, torch.minimum(t_far, depth + cfg.train.clip_eps))
    t_far = torch.maximum(t_far, t_near + 1e-4)
    t = training_samples(t_near, t_far, depth, own, cfg, n_strat, g)  # (N, R, S)
    q = q0[:, :, None] + t[..., None] * qd[:, :, None]
    sigma, rgb = bank(q.reshape(len(boxes), -1, 3), index)
    sigma, rgb = sigma.reshape(t.shape), rgb.reshape(*t.shape, 3)
    w = weights(alphas(sigma, t, t_far))
    colour, est_depth, opacity = (w[..., None] * rgb).sum(-2), (w * t).sum(-1), w.sum(-1)
    tc, ownf = cfg.train, own.float()
    loss = tc.w_depth * (ownf * (est_depth - depth).abs()).mean()
    loss = (
        loss
        + tc.w_colour
        * (ownf[..., None] * (colour - torch.stack([b.rgb for b in batch])).abs()).sum(-1).mean()
    )
    free = t < (depth - 3 * tc.surface_sigma)[..., None]  # line of sight in front of the surface
    loss = loss + tc.w_free * (ownf * (w * free).sum(-1)).mean()
    if mask_loss:
        loss = loss + tc.w_opacity * (opacity - ownf).abs().mean()
    return loss * len(boxes)


@dataclass
class SceneModel:
    """The trained banks of one room and its node graph (FieldRef contents)."""

    objects: nn.Module
    background: nn.Module
    graph: SceneGraph


def build_model(cfg: Config, gt: SceneGraph) -> SceneModel:
    """Untrained banks and the node graph that mirrors the GT graph's nodes (same ids, boxes,
    semantics; boxes from the GT primitives, README Deviations)."""
    fc = cfg.model
    r = fc.object_res
    objects = make_bank(fc.kind, len(gt.nodes), (r, r, r), fc.object_hidden, fc.pe_levels)
    background = make_bank(fc.kind, 1, fc.background_res, fc.background_hidden, fc.pe_levels)
    nodes = tuple(
        _with_content(n, FieldRef(f"{gt.scene_id}/objects", k)) for k, n in enumerate(gt.nodes)
    )
    bg = Background(FieldRef(f"{gt.scene_id}/background", 0), gt.background.box)
    return SceneModel(objects, background, SceneGraph(gt.scene_id, bg, nodes))


def _with_content(node, content):
    from dataclasses import replace

    return replace(node, content=content)


def optimiser(cfg: Config, params) -> torch.optim.Optimizer:
    """Adam for grids; AdamW (vMAP's lr and weight decay) for MLP nodes."""
    if cfg.model.kind == "grid":
        return torch.optim.Adam(params, lr=cfg.train.lr, fused=True)
    return torch.optim.AdamW(params, lr=cfg.train.lr_mlp, weight_decay=cfg.train.weight_decay_mlp)


def step_losses(
    model: SceneModel,
    rays: Rays,
    pools: list[Tensor],
    cfg: Config,
    g,
    mask_loss: bool,
    background: bool,
) -> Tensor:
    """One step's loss: all object nodes in one batched call, plus the background node."""
    tc, nodes = cfg.train, model.graph.nodes
    batch = [rays.take(p[torch.randint(len(p), (tc.rays_object,), generator=g)]) for p in pools]
    boxes = [field_box(n.box, False) for n in nodes]
    ids = [n.node_id for n in nodes]
    loss = node_losses(model.objects, boxes, ids, batch, cfg, tc.samples_object, g, mask_loss)
    if not background:
        return loss
    bg_batch = rays.take(torch.randint(len(rays.o), (tc.rays_background,), generator=g))
    bg_box = field_box(model.graph.background.box, True)
    return loss + node_losses(
        model.background, [bg_box], [0], [bg_batch], cfg, tc.samples_background, g, mask_loss
    )


def train_scene(
    cfg: Config,
    gt: SceneGraph,
    rays: Rays,
    seed: int,
    ckpt,
    hooks,
    mask_loss: bool = True,
    background: bool = True,
) -> SceneModel:
    """Train every node of one room for ``train.steps`` (resumable through ``ckpt``); without
    ``background`` only the object nodes (room B: the insert needs nothing else)."""
    torch.manual_seed(seed)
    model = build_model(cfg, gt)
    modules = nn.ModuleDict({"objects": model.objects, "background": model.background})
    opt = optimiser(cfg, modules.parameters())
    pools = [box_pool(rays, field_box(n.box, False)) for n in model.graph.nodes]
    g = torch.Generator().manual_seed(seed)
    start = ckpt.resume(modules, opt)
    if start:
        g.set_state(ckpt.state["generator"])
    for step in hooks.progress(range(start, cfg.train.steps), desc=f"nodes {gt.scene_id}"):
        loss = step_losses(model, rays, pools, cfg, g, mask_loss, background)
        opt.zero_grad()
        loss.backward()
        opt.step()
        after_step(step, loss, modules, opt, g, ckpt, hooks, cfg)
    return model


def after_step(step: int, loss: Tensor, modules, opt, g, ckpt, hooks, cfg: Config) -> None:
    """NaN guard, log line, periodic checkpoint and the session's stop boundary."""
    from reprokit.torch_utils import check_finite

    check_finite(loss.item(), step)
    if (step + 1) % cfg.train.log_every == 0:
        hooks.log(step + 1, loss=loss.item())

    def save() -> None:
        ckpt.save(
            step + 1,
            {
                "model": modules.state_dict(),
                "optimizer": opt.state_dict(),
                "generator": g.get_state(),
            },
        )

    if ckpt.due(step + 1):
        save()
    hooks.boundary(f"at step {step + 1}", save)


@dataclass
class Hooks:
    """What a training loop reports to: log lines, a progress bar, the session's boundary."""

    log: Callable
    progress: Callable
    boundary: Callable
