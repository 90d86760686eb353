"""Does end-to-end pixel ALANS get off the ground? A measured curve (issue 17 item 4).

``python -m alans.end_to_end [--steps N] [--lr LR] [--starter FILE] [--out DIR]`` trains ALANS
as the paper does (answer CE + auxiliary operator CE, no attribute labels, Adam; no warm-up)
on 32-px Center crops of the Tier B split and records, after every update:

* the loss, its answer-CE part and the batch accuracy;
* the gradient norm of each module: the type / size / color LeNets and Z, M of M(k) = M^k Z
  (Center: the exist LeNet and ``logic`` are not used);

and every ``--eval_every`` steps the accuracy on held-out IID problems and each LeNet's
attribute accuracy on their panels, read with class k = value k and under the best
relabelling of its classes (does perception separate the values at all?), and the mean
entropy of its output over log K (1 = uniform). ``--starter`` starts
from an official starter file (``assets/*.pth``, :mod:`alans.starter`) instead of random
initialisation. The curve goes to ``DIR/curve.json`` and ``DIR/curve.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from reprokit.errors import UserError
from reprokit.seeding import seed_everything

from .data import cached_crops, load_split
from .model import ALANS, TSC, alans_loss
from .starter import lenet_accuracy, load_starter
from .train import accuracy, fit, pixel_param_groups, predict


def grad_norms(model: ALANS) -> dict[str, float]:
    """L2 norm of the current gradient of each LeNet used on Center and of Z and M."""
    nets = dict(zip(model.perception.attrs, model.perception.nets, strict=True))
    parts = {f"lenet_{a}": list(nets[a].parameters()) for a in TSC}
    parts |= {"Z": [model.backend.system.Z], "M": [model.backend.system.M]}
    out = {}
    for name, params in parts.items():
        grads = [p.grad.double().norm() ** 2 for p in params if p.grad is not None]
        out[name] = float(torch.stack(grads).sum().sqrt()) if grads else 0.0
    return out


def evaluate(model: ALANS, crops: torch.Tensor, data: dict[str, np.ndarray]) -> dict:
    """Held-out answer accuracy and per-LeNet accuracy (identity / best relabelling)."""
    model.eval()
    scores = predict(lambda i: model(crops[i])["score"], len(data["target"]), 64)
    out = {"iid_acc": accuracy(scores, data["target"])}
    for a, acc in lenet_accuracy(model, crops, data, TSC).items():
        out |= {f"{a}_{k}": v for k, v in acc.items()}
    model.train()
    return out


def curve(args: argparse.Namespace) -> list[dict]:
    """Train and record; returns one record per step (evaluation keys every few steps)."""
    seed_everything(args.seed)
    data = {p: load_split(args.split, p, n, args.seed) for p, n in args.sizes.items()}
    crops = {
        p: torch.as_tensor(cached_crops(args.split, p, n, args.seed)) for p, n in args.sizes.items()
    }
    model = ALANS()
    if args.starter is not None:
        load_starter(model, args.starter)
    train = data["train"]
    y, lab = torch.as_tensor(train["target"]), torch.as_tensor(train["labels"])
    last: dict[str, float] = {}

    def loss_fn(idx: torch.Tensor) -> torch.Tensor:
        out = model(crops["train"][idx])
        total, ce = alans_loss(out, y[idx], lab[idx], None, args.aux)
        last.update(answer_ce=float(ce.detach()))
        last["batch_acc"] = float((out["score"].argmax(1) == y[idx]).float().mean())
        return total

    records = [{"step": 0, **evaluate(model, crops["iid"], data["iid"])}]
    start = time.perf_counter()

    def on_step(step: int) -> None:
        rec = {"step": step, **last, **grad_norms(model)}
        if step % args.eval_every == 0 or step == args.steps:
            rec |= evaluate(model, crops["iid"], data["iid"])
            rec["wall_s"] = time.perf_counter() - start
            print(_line(rec), flush=True)
        records.append(rec)

    groups = pixel_param_groups(model, args.lr, args.backend_lr)
    losses = fit(model, loss_fn, len(y), args.steps, args.batch, groups, args.seed, None, on_step)
    for rec, loss in zip(records[1:], losses, strict=True):
        rec["loss"] = loss
    return records


def _line(r: dict) -> str:
    g = " ".join(f"{k.removeprefix('lenet_')} {r[k]:.1e}" for k in ("lenet_type", "Z", "M"))
    per = " ".join(f"{a} {r[f'{a}_acc_relabelled']:.2f}" for a in TSC)
    ent = " ".join(f"{r[f'{a}_entropy']:.2f}" for a in TSC)
    return (
        f"step {r['step']:4d}  answer CE {r['answer_ce']:.3f}  IID acc {r['iid_acc']:.3f}  "
        f"LeNet acc (relabelled) {per}  entropy {ent}  |grad| {g}  {r['wall_s']:.0f} s"
    )


def plot(records: list[dict], path: Path, title: str) -> None:
    """Loss, gradient norms and accuracies against the step."""
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    steps = [r["step"] for r in records[1:]]
    ax[0].plot(steps, [r["loss"] for r in records[1:]], label="loss (CE + aux)")
    ax[0].plot(steps, [r["answer_ce"] for r in records[1:]], label="answer CE")
    ax[0].axhline(np.log(8), ls=":", c="k", label="log 8 (chance)")
    for k in ("lenet_type", "lenet_size", "lenet_color", "Z", "M"):
        ax[1].semilogy(steps, [max(r[k], 1e-30) for r in records[1:]], label=k)
    ev = [r for r in records if "iid_acc" in r]
    es = [r["step"] for r in ev]
    ax[2].plot(es, [r["iid_acc"] for r in ev], "k-o", label="IID answer accuracy")
    for a in TSC:
        ax[2].plot(es, [r[f"{a}_acc_relabelled"] for r in ev], "--", label=f"{a} LeNet")
        ax[2].plot(es, [r[f"{a}_entropy"] for r in ev], ":", label=f"{a} LeNet entropy / log K")
    ax[2].axhline(1 / 8, ls=":", c="k")
    for a, t in zip(ax, ("loss", "gradient norm", "accuracy"), strict=True):
        a.set_xlabel("step")
        a.set_title(t)
        a.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="alans.end_to_end", description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300, help="end-to-end Adam steps")
    ap.add_argument("--batch", type=int, default=32, help="problems per step (official 32)")
    ap.add_argument("--lr", type=float, default=0.95e-4, help="LeNet lr (official 0.95e-4)")
    ap.add_argument("--backend_lr", type=float, default=1e-2, help="lr of Z, M (cpu Tier B)")
    ap.add_argument("--aux", type=float, default=1.0, help="auxiliary operator CE weight")
    ap.add_argument("--n_train", type=int, default=2000, help="training problems")
    ap.add_argument("--n_eval", type=int, default=200, help="held-out IID problems")
    ap.add_argument("--eval_every", type=int, default=25, help="steps between evaluations")
    ap.add_argument("--split", default="systematicity", help="the Tier B split")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--starter", type=Path, default=None, help="official assets/*.pth start")
    ap.add_argument("--out", type=Path, default=Path("end_to_end"), help="output folder")
    args = ap.parse_args(argv)
    if min(args.steps, args.batch, args.n_train, args.n_eval, args.eval_every) < 1:
        ap.error("--steps, --batch, --n_train, --n_eval and --eval_every must be >= 1")
    args.sizes = {"train": args.n_train, "iid": args.n_eval}
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    torch.set_num_threads(1)
    try:
        records = curve(args)
    except UserError as e:
        raise SystemExit(f"alans.end_to_end: error: {e}") from None
    args.out.mkdir(parents=True, exist_ok=True)
    start = args.starter.name if args.starter else "random initialisation"
    title = (
        f"end-to-end pixel ALANS (paper loss, no warm-up) from {start}: {args.split}, "
        f"lr {args.lr:g}, batch {args.batch}, {args.n_train} problems, seed {args.seed}"
    )
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    doc = {"settings": settings, "records": records}
    (args.out / "curve.json").write_text(json.dumps(doc, indent=1))
    plot(records, args.out / "curve.png", title)
    print(f"wrote {args.out / 'curve.json'} and {args.out / 'curve.png'}")


if __name__ == "__main__":
    main()
