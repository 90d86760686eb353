"""The experiments behind ``reproduce``: Tier A (symbolic), Tier B (pixels), answer generation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from scipy.stats import chi2
from torch import nn

from reprokit.seeding import seed_everything

from .baselines import CNNMLP, SCL, ContrastiveMLP
from .configs import Config
from .connectionist import FactoredRelationNet, PanelTransformer, value_codes
from .data import cached_crops, flat_onehots, load_split, symbolic_inputs
from .grammar import LAYOUTS
from .model import ALANS, ALANSBackend
from .raven import load_raven
from .starter import load_starter
from .train import (
    Unit,
    accuracy,
    eval_backend,
    perception_accuracy,
    predict,
    train_alans_pixels,
    train_backend,
    train_scorer,
    warmup_perception,
)

TSC = ("type", "size", "color")


def mcnemar_p(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """McNemar's test (continuity-corrected chi^2, 1 dof) between two paired classifiers."""
    b = int((correct_a & ~correct_b).sum())
    c = int((~correct_a & correct_b).sum())
    if b + c == 0:
        return 1.0
    return float(chi2.sf((abs(b - c) - 1) ** 2 / (b + c), 1))


def _parts(cfg: Config, split: str, seed: int) -> dict[str, dict[str, np.ndarray]]:
    d = cfg.data
    kw = {"config": d.config, "iraven": d.answer_set == "iraven"}
    return {
        "train": load_split(split, "train", d.n_train, seed, **kw),
        "val": load_split(split, "val", d.n_val, seed, **kw),
        "iid": load_split(split, "iid", d.n_test, seed, **kw),
        "test": load_split(split, "test", d.n_test, seed, **kw),
    }


def on_grid(cfg: Config) -> Config:
    """``cfg`` with the data of its Grid block (``cfg.grid``): the Grid configuration, its
    sizes and its relation-net / Transformer steps; every other model setting unchanged."""
    g = cfg.grid
    data = replace(cfg.data, config=g.config, n_train=g.n_train, n_val=g.n_val, n_test=g.n_test)
    return replace(cfg, data=data, tier_a=replace(cfg.tier_a, baseline_steps=g.baseline_steps))


def tier_a(cfg: Config, split: str, seed: int, unit: Unit) -> dict:
    """ALANS, ALANS-Ind and the connectionist baselines on ground-truth attributes of one split.

    The trained ALANS backend is saved as ``alans_backend.pt`` in the unit's folder.
    """
    parts = _parts(cfg, split, seed)
    a = cfg.tier_a
    res: dict = {}
    x = {
        k: symbolic_inputs(v, a.label_smoothing if k == "train" else 0.0) for k, v in parts.items()
    }
    correct = {}
    for name, independent in (("alans", False), ("alans_ind", True)):
        seed_everything(seed)
        backend = ALANSBackend(cfg.alans.hyper(), independent)
        if name == "alans":
            res["alans_init_acc"] = accuracy(
                eval_backend(backend, x["test"])["score"], parts["test"]["target"]
            )
        steps, lr = (a.steps, a.lr) if name == "alans" else (a.ind_steps, a.ind_lr)
        curve = train_backend(
            backend,
            x["train"],
            parts["train"],
            steps,
            a.batch,
            lr,
            cfg.alans.aux,
            seed,
            unit.loop(name),
        )
        for part in ("val", "iid", "test"):
            ev = eval_backend(backend, x[part])
            res[f"{name}_{part}_acc"] = accuracy(ev["score"], parts[part]["target"])
            if part == "test":
                correct[name] = ev["score"].argmax(1) == parts["test"]["target"]
                if name == "alans":
                    res["answer_generation"] = answer_generation(ev, parts["test"])
        res[f"{name}_curve"] = curve
        if name == "alans":
            res["alans_value_norms"] = [
                float(v) for v in backend.system.values().detach().norm(dim=(1, 2))
            ]
            torch.save(backend.state_dict(), unit.folder / "alans_backend.pt")
    for name in a.baselines:
        sc = train_baseline(cfg, name, parts, seed, unit, res)
        correct[name] = sc.argmax(1) == parts["test"]["target"]
    for other in ("alans_ind", *a.baselines):
        res[f"mcnemar_p_alans_vs_{other}"] = mcnemar_p(correct["alans"], correct[other])
    return res


def make_baseline(name: str, n_features: int, n_slots: int) -> nn.Module:
    """A Tier A baseline by name: ``mlp`` or ``<relnet|transformer>_<encoding>``, for a layout
    of ``n_slots`` slots (1 = Center)."""
    if name == "mlp":
        return ContrastiveMLP(n_features)
    kind, encoding = name.split("_", 1)
    if kind == "relnet":
        return FactoredRelationNet(encoding, n_slots=n_slots)
    return PanelTransformer(encoding, n_slots=n_slots)


def _inputs(name: str, data: dict[str, np.ndarray]):
    """What baseline ``name`` reads: flat one-hots (MLP) or per-attribute value codes."""
    if name == "mlp":
        return flat_onehots(data)
    return value_codes(data, name.split("_", 1)[1])


def _rows(x, i: torch.Tensor):
    return {k: v[i] for k, v in x.items()} if isinstance(x, dict) else x[i]


def train_baseline(
    cfg: Config, name: str, parts: dict[str, dict[str, np.ndarray]], seed: int, unit: Unit, res
) -> np.ndarray:
    """Train one baseline at each learning rate of its grid, keep the one with the best
    validation accuracy (never the test split), record its val / IID / test accuracy in
    ``res``; returns its test scores."""
    a = cfg.tier_a
    x = {k: _inputs(name, v) for k, v in parts.items()}
    lrs = {"mlp": (a.mlp_lr,), "relnet": a.relnet_lrs, "transformer": a.transformer_lrs}
    lrs = lrs[name.split("_")[0]]
    steps = a.mlp_steps if name == "mlp" else a.baseline_steps
    best = None
    for lr in lrs:
        seed_everything(seed)
        n_features = x["train"].shape[-1] if name == "mlp" else 0
        net = make_baseline(name, n_features, LAYOUTS[cfg.data.config].n_slots)
        curve = train_scorer(
            net,
            lambda i, n=net: n(_rows(x["train"], i)),
            parts["train"]["target"],
            steps,
            a.batch,
            lr,
            seed,
            unit.loop(f"{name}-lr{lr:g}"),
        )
        net.eval()
        sc = {
            p: predict(lambda i, p=p, n=net: n(_rows(x[p], i)), len(parts[p]["target"]))
            for p in ("val", "iid", "test")
        }
        acc = {p: accuracy(sc[p], parts[p]["target"]) for p in sc}
        if best is None or acc["val"] > best[0]["val"]:
            best = acc, sc["test"], curve, lr
    acc, test_scores, curve, lr = best
    for p, v in acc.items():
        res[f"{name}_{p}_acc"] = v
    res[f"{name}_curve"], res[f"{name}_lr"] = curve, lr
    return test_scores


def answer_generation(ev: dict[str, np.ndarray], data: dict[str, np.ndarray]) -> dict:
    """Decode the posterior-mixture prediction of the 9th panel; compare with the true answer.

    ``copy8_attr_acc`` is the trivial predictor that copies the 8th panel's attributes.
    """
    answer = data["panels"][np.arange(len(data["target"])), 8 + data["target"]]  # (N, 4)
    hits = np.stack([ev[f"pred_{a}"].argmax(1) == answer[:, i] for i, a in enumerate(TSC, 1)], 1)
    pred = np.stack([ev[f"pred_{a}"].argmax(1) for a in TSC], 1)
    copy8 = data["panels"][:, 7, 1:4] == answer[:, 1:4]  # (N, 3)
    return {
        "attr_acc": float(hits.mean()),
        "all_acc": float(hits.all(1).mean()),
        "copy8_attr_acc": float(copy8.mean()),
        "pred": pred,
    }


def tier_b_data(
    cfg: Config, seed: int
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """Tier B's train / iid / test problems and their slot crops: generated (the split of
    ``tier_b.split``, attribute labels included), or read from ``data.raven_dir`` (the paper
    profile's real RAVEN / I-RAVEN files; no attribute labels, ``iid`` = RAVEN's val files)."""
    b, d = cfg.tier_b, cfg.data
    n = {"train": b.n_train, "iid": b.n_test, "test": b.n_test}
    raven_dir = getattr(d, "raven_dir", None)  # a field of the paper profile only
    if raven_dir is not None:
        real = {k: load_raven(raven_dir, d.config, k, n[k]) for k in n}
        return real, {k: v.pop("crops") for k, v in real.items()}
    iraven = d.answer_set == "iraven"
    data = {k: load_split(b.split, k, n[k], seed, d.config, iraven) for k in n}
    crops = {
        k: cached_crops(b.split, k, len(v["target"]), seed, d.config, iraven)
        for k, v in data.items()
    }
    return data, crops


def tier_b(cfg: Config, seed: int, device: torch.device, unit: Unit) -> dict:
    """Pixels: ALANS as the paper trains it (answer CE + operator CE, no attribute labels;
    from ``tier_b.starter`` when the paper profile names one), supervised-perception ALANS
    (attribute-labelled LeNet warm-up, then the paper's loss; a labelled variant, trained when
    ``tier_b.warmup_steps`` > 0 on generated data), CNN-MLP and SCL."""
    b = cfg.tier_b
    split = b.split
    data, arrays = tier_b_data(cfg, seed)
    crops = {k: torch.as_tensor(v).to(device) for k, v in arrays.items()}
    res: dict = {"split": split}
    if b.warmup_steps > 0 and "panels" in data["train"]:  # attribute labels exist
        res |= _supervised_perception(cfg, seed, device, unit, data, crops)
    if b.paper_setting:  # as the paper trains it: answer CE + operator CE, no attribute labels
        seed_everything(seed)
        ctrl = ALANS(cfg.alans.hyper())
        starter = getattr(b, "starter", None)  # a field of the paper profile only
        if starter is not None:
            load_starter(ctrl, starter)
        ctrl = ctrl.to(device)
        res["alans_curve"] = _train_end_to_end(cfg, seed, unit, ctrl, data, crops, "alans")
        res["alans_test_acc"] = _eval_alans(ctrl, data, crops, "test")
    for name, cls in (("cnn", CNNMLP), ("scl", SCL)):
        seed_everything(seed)
        net = cls().to(device)
        res[f"{name}_curve"] = train_scorer(
            net,
            lambda i, n=net: n(crops["train"][i]),
            data["train"]["target"],
            b.baseline_steps,
            b.batch,
            b.baseline_lr,
            seed,
            unit.loop(name),
        )
        net.eval()
        for part in ("iid", "test"):
            sc = predict(lambda i, n=net, p=part: n(crops[p][i]), len(data[part]["target"]), 128)
            res[f"{name}_{part}_acc"] = accuracy(sc, data[part]["target"])
    return res


def _eval_alans(net: ALANS, data: dict, crops: dict[str, torch.Tensor], part: str) -> float:
    net.eval()
    sc = predict(lambda i: net(crops[part][i])["score"], len(data[part]["target"]), 64)
    return accuracy(sc, data[part]["target"])


def _train_end_to_end(
    cfg: Config, seed: int, unit: Unit, net: ALANS, data: dict, crops: dict, what: str
) -> list[float]:
    b = cfg.tier_b
    args = (crops["train"], data["train"], b.steps, b.batch, b.lr, b.backend_lr)
    return train_alans_pixels(net, *args, cfg.alans.aux, seed, unit.loop(what))


def _supervised_perception(
    cfg: Config, seed: int, device: torch.device, unit: Unit, data: dict, crops: dict
) -> dict:
    """The labelled variant: attribute-labelled LeNet warm-up, then the paper's loss."""
    b = cfg.tier_b
    res: dict = {}
    seed_everything(seed)
    model = ALANS(cfg.alans.hyper()).to(device)
    res["warmup_curve"] = warmup_perception(
        model,
        crops["train"],
        data["train"],
        b.warmup_problems,
        b.warmup_steps,
        b.warmup_batch,
        b.warmup_lr,
        seed,
        unit.loop("warmup"),
    )
    res["perception_acc_warmup"] = perception_accuracy(model, crops["test"], data["test"])

    # Supervised-perception ALANS: the warmed-up LeNets, then the paper's loss end to end.
    res["alans_sp_warmup_only_acc"] = _eval_alans(model, data, crops, "test")
    res["alans_sp_curve"] = _train_end_to_end(cfg, seed, unit, model, data, crops, "alans_sp")
    for part in ("iid", "test"):
        res[f"alans_sp_{part}_acc"] = _eval_alans(model, data, crops, part)
    res["perception_acc"] = perception_accuracy(model, crops["test"], data["test"])
    return res
