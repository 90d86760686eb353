"""One seed of the experiment: the rooms' data, the trained models, and every score.

Per seed: room A (five objects) and room B (a chair and a lamp, for the cross-scene insert) are
rendered from jittered training rings; ASSIST's nodes are trained per room (room B: its object
nodes only, the insert needs nothing else), the monolithic baseline on room A, optionally the
no-mask ablation. ``evaluate`` renders the fixed held-out ring unedited and after each edit of
``edits.SUITE`` (plus the controls) for every model and for the voxelised oracle.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from assist import edits as ed
from assist import metrics as mt
from assist.baseline import MonolithicField, baseline_loss, matched_rays, render_edited
from assist.configs import Config
from assist.geometry import Camera, camera_rays
from assist.nodes import SceneGraph
from assist.oracle import oracle_banks
from assist.render import Fields, field_box, render_graph
from assist.replica import load_sequence
from assist.room import View, render_gt, ring_cameras, room_a, room_b, seen_mask
from assist.train import (
    Hooks,
    Rays,
    SceneModel,
    after_step,
    box_pool,
    build_model,
    make_rays,
    node_losses,
    optimiser,
    train_scene,
)


@dataclass
class RoomData:
    """One room's GT graph, training cameras, GT views and flattened rays."""

    gt: SceneGraph
    cams: list[Camera]
    views: list[View]
    rays: Rays


def room_data(cfg: Config, gt: SceneGraph, seed: int) -> RoomData:
    dc = cfg.data
    salt = {"A": 0, "B": 7919}[gt.scene_id]
    cams = ring_cameras(dc.train_views, dc.width, dc.height, dc.fov_deg, seed * 2 + salt)
    views = [render_gt(gt, c) for c in cams]
    return RoomData(gt, cams, views, make_rays(cams, views))


def heldout_cams(cfg: Config) -> list[Camera]:
    dc = cfg.data
    return ring_cameras(dc.test_views, dc.width, dc.height, dc.fov_deg, None, offset=0.5)


# -- models as unit results -------------------------------------------------------------------
def state_arrays(modules: dict[str, torch.nn.Module]) -> dict[str, np.ndarray]:
    return {
        f"{m}.{k}": v.detach().numpy()
        for m, mod in modules.items()
        for k, v in mod.state_dict().items()
    }


def load_arrays(modules: dict[str, torch.nn.Module], arrays: dict[str, np.ndarray]) -> None:
    for m, mod in modules.items():
        prefix = f"{m}."
        mod.load_state_dict(
            {
                k[len(prefix) :]: torch.from_numpy(np.asarray(v))
                for k, v in arrays.items()
                if k.startswith(prefix)
            }
        )


def train_nodes(
    cfg: Config, data: RoomData, seed: int, ckpt, hooks: Hooks, mask_loss: bool, background: bool
) -> dict:
    """ASSIST (or the no-mask ablation) on one room → the banks' arrays."""
    model = train_scene(cfg, data.gt, data.rays, seed, ckpt, hooks, mask_loss, background)
    return state_arrays({"objects": model.objects, "background": model.background})


def train_baseline(cfg: Config, data: RoomData, seed: int, ckpt, hooks: Hooks) -> dict:
    """The monolithic field on room A with ASSIST's budget: the same steps and rays per step."""
    torch.manual_seed(seed)
    field = MonolithicField(data.gt.background.box, cfg.model.baseline_res, len(data.gt.nodes) + 1)
    opt = optimiser(cfg, field.parameters())
    g = torch.Generator().manual_seed(seed)
    start = ckpt.resume(field, opt)
    if start:
        g.set_state(ckpt.state["generator"])
    tc = cfg.train
    n_rays = matched_rays(cfg, len(data.gt.nodes))

    for step in hooks.progress(range(start, tc.steps), desc="baseline"):
        batch = data.rays.take(torch.randint(len(data.rays.o), (n_rays,), generator=g))
        loss = baseline_loss(field, batch, cfg, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        after_step(step, loss, field, opt, g, ckpt, hooks, cfg)
    return state_arrays({"field": field})


def speed(cfg: Config, data: RoomData) -> dict[str, float]:
    """Seconds per object-node training step (forward + backward), batched vs a Python loop, for
    N = ``cfg.speed_nodes`` nodes (room A's nodes repeated); median of ``speed_repeats``."""
    from dataclasses import replace

    out: dict[str, float] = {}
    g = torch.Generator().manual_seed(0)
    tc = cfg.train
    for n in cfg.speed_nodes:
        nodes = [data.gt.nodes[k % len(data.gt.nodes)] for k in range(n)]
        gt = replace(data.gt, nodes=tuple(nodes))
        model = build_model(cfg, gt)
        boxes = [field_box(nd.box, False) for nd in nodes]
        pools = [box_pool(data.rays, b) for b in boxes]
        ids = [nd.node_id for nd in nodes]
        for mode in ("batched", "loop"):
            times = []
            for _ in range(cfg.speed_repeats + 1):  # the first is a warm-up
                batch = [
                    data.rays.take(p[torch.randint(len(p), (tc.rays_object,), generator=g)])
                    for p in pools
                ]
                t0 = time.perf_counter()
                if mode == "batched":
                    loss = node_losses(model.objects, boxes, ids, batch, cfg, tc.samples_object, g)
                else:
                    loss = sum(
                        node_losses(
                            model.objects,
                            [b],
                            [i],
                            [r],
                            cfg,
                            tc.samples_object,
                            g,
                            index=torch.tensor([k]),
                        )
                        for k, (b, i, r) in enumerate(zip(boxes, ids, batch, strict=True))
                    )
                loss.backward()
                times.append(time.perf_counter() - t0)
            out[f"step_time_s/{mode}_{n}"] = float(np.median(times[1:]))
    return out


# -- evaluation ------------------------------------------------------------------------------
def render_views(fn, cams: list[Camera]) -> list[dict]:
    """Render every camera with ``fn(o, d, cam)`` and reshape its outputs to images."""
    out = []
    for c in cams:
        o, d = camera_rays(c)
        r = fn(o, d, c)
        hw = (c.height, c.width)
        out.append(
            {k: r[k].reshape(*hw, -1).squeeze(-1) for k in ("rgb", "depth", "instance", "semantic")}
        )
    return out


def heldout_scores(pred: list[dict], gt: list[View]) -> dict[str, float]:
    pan = mt.panoptic(
        [p["instance"] for p in pred],
        [g.instance for g in gt],
        [p["semantic"] for p in pred],
        [g.semantic for g in gt],
    )
    return {
        "psnr": mt.pooled_psnr(
            [p["rgb"] for p in pred],
            [g.rgb for g in gt],
            [torch.ones_like(g.depth, dtype=torch.bool) for g in gt],
        ),
        "ssim": float(
            np.mean([mt.ssim(p["rgb"].clamp(0, 1), g.rgb) for p, g in zip(pred, gt, strict=True)])
        ),
        "depth_l1": float(
            np.mean(
                [
                    mt.depth_l1(p["depth"], g.depth, g.instance)
                    for p, g in zip(pred, gt, strict=True)
                ]
            )
        ),
        "pq": pan["pq"],
        "miou": pan["miou"],
    }


@dataclass
class EditTruth:
    """The GT of one edit on the held-out ring: views, seen masks, edit regions, edited ids."""

    views: list[View]
    seen: list[torch.Tensor]
    region: list[torch.Tensor]
    ids: list[int]


def edit_scores(pred: list[dict], truth: EditTruth) -> dict[str, float]:
    rgb = [p["rgb"] for p in pred]
    gts = [v.rgb for v in truth.views]
    pan = mt.panoptic(
        [p["instance"] for p in pred],
        [v.instance for v in truth.views],
        [p["semantic"] for p in pred],
        [v.semantic for v in truth.views],
    )
    ious = [
        mt.instance_iou([p["instance"] for p in pred], [v.instance for v in truth.views], i)
        for i in truth.ids
    ]
    return {
        "region_psnr": mt.pooled_psnr(rgb, gts, truth.region),
        "image_psnr": mt.pooled_psnr(rgb, gts, truth.seen),
        "disoccluded_psnr": mt.pooled_psnr(rgb, gts, [~s for s in truth.seen]),
        "pq": pan["pq"],
        "iou": float(np.mean(ious)) if ious else math.nan,
    }


def nodes_fn(fields: Fields, graph: SceneGraph, frame: str = "node"):
    """``render_views``' renderer of a node graph (per-view sample cache on)."""
    return lambda o, d, cam: render_graph(graph, fields, o, d, frame, view=cam)


def heldout_eval(
    cfg: Config,
    data: RoomData,
    graph: SceneGraph,
    cams: list[Camera],
    gt: list[View],
    methods: dict,
    cache: dict,
) -> tuple[dict[str, float], dict[str, list[dict]]]:
    """Unedited held-out scores of every method (and the mean-colour predictor), with the
    renders; ``cache`` keeps the baseline's field samples per view for the edits."""
    scores: dict[str, float] = {
        "heldout_psnr/mean_colour": mt.pooled_psnr(
            [data.rays.rgb.mean(0).expand_as(g.rgb) for g in gt],
            [g.rgb for g in gt],
            [torch.ones_like(g.depth, dtype=torch.bool) for g in gt],
        )
    }
    unedited = {}
    for m, f in methods.items():
        fn = (
            (lambda o, d, cam, f=f: render_edited(f, graph, graph, o, d, cfg, cam, cache))
            if m == "baseline"
            else nodes_fn(f, graph)
        )
        unedited[m] = render_views(fn, cams)
        for k, v in heldout_scores(unedited[m], gt).items():
            scores[f"heldout_{k}/{m}"] = v
    return scores, unedited


def evaluate(cfg: Config, seed: int, a: RoomData, b: RoomData, models: dict) -> dict:
    """Every score of one seed (``models``: method → Fields or MonolithicField)."""
    cams = heldout_cams(cfg)
    gt_u = [render_gt(a.gt, c) for c in cams]
    train = {"A": (a.cams, a.views), "B": (b.cams, b.views)}
    graph_a, graph_b = models["graphs"]
    methods = {k: v for k, v in models.items() if k != "graphs"}
    cache: dict = {}  # the baseline's field samples per held-out view
    scores, unedited = heldout_eval(cfg, a, graph_a, cams, gt_u, methods, cache)
    art: dict = {"gt": {"unedited": gt_u}, "pred": {"unedited": unedited}}
    per_edit: dict[str, dict[str, dict[str, float]]] = {}
    for name, command in ed.SUITE:
        gt_e = ed.edited(command, a.gt, {"B": b.gt})
        views = [render_gt(gt_e, c) for c in cams]
        seen = [seen_mask(gt_e, v, train) for v in views]
        region = [mt.edit_region(v, u) & s for v, u, s in zip(views, gt_u, seen, strict=True)]
        truth = EditTruth(views, seen, region, ed.edited_ids(a.gt, gt_e))
        model_e = ed.edited(command, graph_a, {"B": graph_b})
        runs: dict[str, list[dict]] = {}
        for m, f in methods.items():
            if m == "baseline":
                if name in ed.INTRA:
                    runs[m] = render_views(
                        lambda o, d, cam, f=f, e=model_e: render_edited(
                            f, graph_a, e, o, d, cfg, cam, cache
                        ),
                        cams,
                    )
                    runs[f"{m}_noop"] = unedited[m]
                continue
            runs[m] = render_views(nodes_fn(f, model_e), cams)
            runs[f"{m}_noop"] = unedited[m]
            if m == "assist":
                runs[f"{m}_world"] = render_views(nodes_fn(f, model_e, "source"), cams)
                if name in ed.RIGID:
                    runs[f"{m}_inverse"] = render_views(
                        nodes_fn(f, ed.inverse(command, graph_a)), cams
                    )
        per_edit[name] = {k: edit_scores(v, truth) for k, v in runs.items()}
        art["gt"][name] = views
        art["pred"][name] = {k: runs[k] for k in ("assist", "assist_world") if k in runs}
        art.setdefault("region", {})[name] = region
    scores.update(aggregate(per_edit, scores))
    return {"scores": scores, "per_edit": per_edit, "art": art}


def _mean(values: list[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan


def aggregate(per_edit: dict, heldout: dict[str, float]) -> dict[str, float]:
    """Means over the edits (all six; ``_rigid``: translate/rotate; ``_intra``: the five edits
    inside room A) of each run's scores, the unedited-to-edited gap, and per-edit PSNRs."""
    out: dict[str, float] = {}
    runs = sorted({r for e in per_edit.values() for r in e})
    subsets = {"": [n for n, _ in ed.SUITE], "_rigid": list(ed.RIGID), "_intra": list(ed.INTRA)}
    for run in runs:
        for suffix, names in subsets.items():
            have = [per_edit[n][run] for n in names if run in per_edit[n]]
            if len(have) != len(names):
                continue
            for key, metric in (
                ("region_psnr", "edit_psnr"),
                ("image_psnr", "edit_image_psnr"),
                ("pq", "edit_pq"),
                ("iou", "edit_iou"),
                ("disoccluded_psnr", "edit_disoccluded_psnr"),
            ):
                out[f"{metric}{suffix}/{run}"] = _mean([h[key] for h in have])
        method = run.split("_")[0]
        if (
            f"heldout_psnr/{method}" in heldout
            and f"edit_image_psnr/{run}" in out
            and run == method
        ):
            out[f"edit_gap/{run}"] = (
                heldout[f"heldout_psnr/{method}"] - out[f"edit_image_psnr/{run}"]
            )
        if (
            f"heldout_psnr/{method}" in heldout
            and f"edit_image_psnr_intra/{run}" in out
            and run == method
        ):
            out[f"edit_gap_intra/{run}"] = (
                heldout[f"heldout_psnr/{method}"] - out[f"edit_image_psnr_intra/{run}"]
            )
        for n in per_edit:
            if run in per_edit[n]:
                out[f"edit_psnr_{n}/{run}"] = per_edit[n][run]["region_psnr"]
    return out


def oracle_fields(cfg: Config, a: RoomData, b: RoomData) -> Fields:
    """The voxelised GT of both rooms in the same grids as ASSIST's nodes."""
    oa, ba = oracle_banks(a.gt, cfg.model.object_res, cfg.model.background_res)
    ob, _ = oracle_banks(b.gt, cfg.model.object_res, (2, 2, 2))
    return render_fields(cfg, {"A/objects": oa, "A/background": ba, "B/objects": ob})


def render_fields(cfg: Config, banks: dict) -> Fields:
    return Fields(banks, cfg.render.samples_object, cfg.render.samples_background)


def node_fields(
    cfg: Config, a: RoomData, b: RoomData, arrays_a: dict, arrays_b: dict
) -> tuple[Fields, SceneGraph, SceneGraph]:
    """Trained banks of both rooms rebuilt from their unit arrays, and the node graphs."""
    ma, mb = trained_model(cfg, a.gt, arrays_a), trained_model(cfg, b.gt, arrays_b)
    banks = {"A/objects": ma.objects, "A/background": ma.background, "B/objects": mb.objects}
    return render_fields(cfg, banks), ma.graph, mb.graph


def trained_model(cfg: Config, gt: SceneGraph, arrays: dict) -> SceneModel:
    """One room's banks rebuilt from a training unit's arrays, with its node graph."""
    model = build_model(cfg, gt)
    load_arrays({"objects": model.objects, "background": model.background}, arrays)
    return model


def baseline_field(cfg: Config, a: RoomData, arrays: dict) -> MonolithicField:
    field = MonolithicField(a.gt.background.box, cfg.model.baseline_res, len(a.gt.nodes) + 1)
    load_arrays({"field": field}, arrays)
    return field


def rooms(cfg: Config, seed: int) -> tuple[RoomData, RoomData]:
    return room_data(cfg, room_a(), seed), room_data(cfg, room_b(), seed)


# -- the paper profile: a Replica sequence ------------------------------------------------------
def replica_data(cfg: Config) -> tuple[RoomData, list[Camera], list[View]]:
    """The Replica sequence of ``cfg.data.replica``: its training data as one room (pixels
    without depth left out) and its held-out cameras and views."""
    seq = load_sequence(cfg)
    rays = make_rays(seq.train_cams, seq.train_views)
    rays = rays.take(torch.nonzero(rays.depth > 0).squeeze(1))
    return RoomData(seq.gt, seq.train_cams, seq.train_views, rays), seq.test_cams, seq.test_views


def evaluate_replica(cfg: Config, trained: dict[str, dict]) -> dict[str, float]:
    """Held-out scores on a Replica sequence (no edited ground truth exists for real data)."""
    data, cams, views = replica_data(cfg)
    banks, graph = {}, None
    for kind in ("assist", "nomask"):
        if f"{kind}-R" in trained:
            model = trained_model(cfg, data.gt, trained[f"{kind}-R"])
            banks[kind] = render_fields(
                cfg, {"R/objects": model.objects, "R/background": model.background}
            )
            graph = model.graph
    methods = dict(banks)
    if "baseline-R" in trained:
        methods["baseline"] = baseline_field(cfg, data, trained["baseline-R"])
    return heldout_eval(cfg, data, graph, cams, views, methods, {})[0]
