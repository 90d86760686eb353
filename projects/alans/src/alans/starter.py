"""The official starter checkpoints (ALANS ``assets/{sys,prod,loc}.pth``): load and inspect.

The official README: "Training from scratch is extremely hard, so we provide starter
checkpoints in ``assets/``"; ``main.py train --resume FILE`` loads one as the whole model
before the paper's loss (answer CE + auxiliary operator CE, no attribute labels) trains it.
Each file is ``{"number_sys": {zero, M, logic}, "object_cnn": {<attr>_model.<layer>.*}}``:
the algebraic system and the four LeNets (exist, type, size, color), nothing else.

``load_starter`` maps such a file onto :class:`alans.model.ALANS` (the paper profile's
``--tier_b.starter``, the documented start of the paper's training). ``python -m alans.starter
FILE [FILE ...]`` prints what the files hold: the BN step counters (how long each was trained),
|eig M| and ||M^k Z||, which LeNets two files share bit for bit (a frozen module), and the
accuracy of each starter LeNet on our rendered test crops when its class k is read as value k
(the identity mapping: high only if the LeNet's classes are the attribute's values in RAVEN's
index order).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from reprokit.errors import UserError

from .data import cached_crops, load_split
from .model import ALANS
from .perception import ATTR_CLASSES
from .train import panel_labels

OFFICIAL_ATTRS = ("exist", "type", "size", "color")  # ObjectCNN's LeNets, ATTR_CLASSES order
FC = {"fc1": "fc.0", "fc2": "fc.2", "fc3": "fc.4"}  # official LeNet fc names -> ours
SYSTEM = {"zero": "Z", "M": "M", "logic": "logic"}


def read_starter(path: Path) -> dict[str, dict[str, torch.Tensor]]:
    """The two state dicts of an official starter file; a file of another shape is refused."""
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as e:
        raise UserError(f"starter {path}: cannot be read as a torch checkpoint ({e})") from None
    if not (isinstance(sd, dict) and {"number_sys", "object_cnn"} <= sd.keys()):
        raise UserError(
            f"starter {path}: not an ALANS starter checkpoint (needs number_sys and object_cnn)"
        )
    return sd


def alans_state(starter: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The starter's tensors under :class:`ALANS` state-dict names."""
    out = {f"backend.system.{SYSTEM[k]}": v for k, v in starter["number_sys"].items()}
    for key, v in starter["object_cnn"].items():
        model, layer, rest = key.split(".", 2)
        i = OFFICIAL_ATTRS.index(model.removesuffix("_model"))
        out[f"perception.nets.{i}.{FC.get(layer, layer)}.{rest}"] = v
    return out


def load_starter(model: ALANS, path: Path) -> None:
    """Load an official starter file into ``model`` (every tensor of the model, none left)."""
    try:
        model.load_state_dict(alans_state(read_starter(path)))
    except (KeyError, ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0]
        raise UserError(f"starter {path}: does not fit the ALANS model ({first})") from None


def bn_steps(starter: dict[str, dict[str, torch.Tensor]]) -> dict[str, int]:
    """BN ``num_batches_tracked`` per LeNet: the training steps each LeNet has seen."""
    cnn = starter["object_cnn"]
    return {a: int(cnn[f"{a}_model.bn1.num_batches_tracked"]) for a in OFFICIAL_ATTRS}


def shared_lenets(a: dict, b: dict) -> list[str]:
    """LeNets whose learned parameters (BN running statistics aside) are equal bit for bit."""
    learned = [k for k in a["object_cnn"] if "running" not in k and "num_batches" not in k]
    same = []
    for attr in OFFICIAL_ATTRS:
        keys = [k for k in learned if k.startswith(f"{attr}_model.")]
        if all(torch.equal(a["object_cnn"][k], b["object_cnn"][k]) for k in keys):
            same.append(attr)
    return same


@torch.no_grad()
def lenet_accuracy(
    model: ALANS, crops: torch.Tensor, data: dict[str, np.ndarray], attrs: tuple[str, ...]
) -> dict[str, dict[str, float]]:
    """Per attribute of ``attrs``, on the occupied slots of ``crops`` (N, 16, S, 32, 32):
    ``acc`` (class k read as value k), ``acc_relabelled`` (the best relabelling of the
    classes: does the LeNet separate the values at all?) and ``entropy`` (mean entropy of its
    output over log K: 1 = uniform)."""
    labels = {k: v.reshape(-1) for k, v in panel_labels(data, crops.shape[2]).items()}
    model.eval()
    logp = model.perception(crops.reshape(-1, 1, *crops.shape[-2:]).float(), attrs)
    out = {}
    for a, lp in logp.items():
        keep = (labels[a] != -100).to(lp.device)
        pred, true = lp.argmax(1)[keep].cpu().numpy(), labels[a][keep.cpu()].numpy()
        counts = np.zeros((ATTR_CLASSES[a],) * 2)
        np.add.at(counts, (true, pred), 1)
        rows, cols = linear_sum_assignment(-counts)
        entropy = -(lp.exp() * lp).sum(1)[keep].mean() / np.log(ATTR_CLASSES[a])
        out[a] = {
            "acc": float((pred == true).mean()),
            "acc_relabelled": float(counts[rows, cols].sum() / counts.sum()),
            "entropy": float(entropy),
        }
    return out


def describe(path: Path, config: str, n: int) -> list[str]:
    """The report lines of one starter file."""
    sd = read_starter(path)
    M = sd["number_sys"]["M"].double()
    model = ALANS()
    load_starter(model, path)
    norms = model.backend.system.values().detach().norm(dim=(1, 2))
    lines = [
        f"{path}: BN steps per LeNet {bn_steps(sd)}",
        f"  |eig M| {torch.linalg.eigvals(M).abs().tolist()}, ||M^k Z||_F k=0..9: "
        + ", ".join(f"{float(v):.2g}" for v in norms),
    ]
    data = load_split("systematicity", "test", n, 0, config)
    crops = torch.as_tensor(cached_crops("systematicity", "test", n, 0, config))
    acc = lenet_accuracy(model, crops, data, OFFICIAL_ATTRS)
    lines.append(
        f"  LeNet accuracy on our {config} test crops (identity mapping / best relabelling): "
        + ", ".join(f"{a} {v['acc']:.3f} / {v['acc_relabelled']:.3f}" for a, v in acc.items())
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="alans.starter", description=__doc__.splitlines()[0])
    ap.add_argument("files", type=Path, nargs="+", help="official assets/*.pth files")
    ap.add_argument("--config", default="grid3x3", choices=("center", "grid2x2", "grid3x3"))
    ap.add_argument("--n", type=int, default=100, help="generated test problems for accuracy")
    args = ap.parse_args(argv)
    try:
        for path in args.files:
            print("\n".join(describe(path, args.config, args.n)))
        for a, b in itertools.combinations(args.files, 2):
            shared = shared_lenets(read_starter(a), read_starter(b))
            print(f"{a.name} and {b.name}: LeNets equal bit for bit: {shared or 'none'}")
    except UserError as e:
        raise SystemExit(f"alans.starter: error: {e}") from None


if __name__ == "__main__":
    main()
