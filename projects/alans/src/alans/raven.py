"""Real RAVEN / I-RAVEN problems read from ``.npz`` files by path (the paper profile's Tier B).

Layout (RAVEN's ``serialize`` output, read by ALANS ``dataset.py``): ``<root>/<folder>/`` holds
``RAVEN_<i>_<part>.npz`` with ``image`` (16, 160, 160) uint8 (8 context panels, then the 8
candidates), ``target`` (the answer index), ``meta_target``, ``structure``, ``meta_matrix``, ...,
and beside each the rule annotation ``RAVEN_<i>_<part>_comp0_rule.npz`` written by ALANS
``src/auxiliary/generate_rule.py`` with ``exist_rule_indicator``, ``number_rule_indicator``,
``exist_rule``, ``number_rule``, ``type_rule``, ``size_rule``, ``color_rule`` (the operator labels
of the auxiliary loss). Folders: ``center_single`` (Center), ``distribute_four`` (2x2 Grid),
``distribute_nine`` (3x3 Grid). RAVEN has no separate IID test: our ``iid`` part reads ``val``.

Panels are cut into slot cells as ``dataset.py`` does (the whole panel; 80-px cells; 53-px
cells at 0/53/106) and area-resized to 32 px, like our generated crops. The files carry no
per-panel attribute labels (those live in RAVEN's XML), so only models trained without them
(ALANS as the paper trains it, CNN-MLP, SCL) can use real data.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np

from reprokit.errors import UserError

FOLDERS = {"center": "center_single", "grid2x2": "distribute_four", "grid3x3": "distribute_nine"}
FILE_PART = {"train": "train", "val": "val", "iid": "val", "test": "test"}
RULE_KEYS = (
    "exist_rule_indicator",
    "number_rule_indicator",
    "exist_rule",
    "number_rule",
    "type_rule",
    "size_rule",
    "color_rule",
)
CELL_EDGES = {"center": (0, 160), "grid2x2": (0, 80, 160), "grid3x3": (0, 53, 106, 160)}


def problem_files(root: Path, config: str, part: str) -> list[Path]:
    """The problem files of one part, in index order; a one-line UserError if there are none."""
    folder = Path(root) / FOLDERS[config]
    if not Path(root).is_dir():
        raise UserError(f"--data.raven_dir {root}: no such folder")
    if not folder.is_dir():
        raise UserError(f"--data.raven_dir {root}: no folder {FOLDERS[config]}/ in it")
    suffix = f"_{FILE_PART[part]}.npz"
    files = [p for p in folder.glob(f"*{suffix}") if not p.name.endswith("_rule.npz")]
    if not files:
        raise UserError(f"--data.raven_dir: no *{suffix} problem files in {folder}")
    return sorted(files, key=lambda p: (len(p.name), p.name))


def _rule_file(problem: Path) -> Path:
    return problem.with_name(problem.stem + "_comp0_rule.npz")


def _read(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``keys`` of one ``.npz`` file; a one-line UserError for a missing, unreadable or
    incomplete file."""
    try:
        with np.load(path) as z:
            missing = [k for k in keys if k not in z.files]
            if missing:
                raise UserError(f"{path}: not a RAVEN file (no {missing[0]!r})")
            return {k: z[k] for k in keys}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise UserError(f"{path}: cannot be read as .npz ({e})") from None


def slot_crops(image: np.ndarray, config: str, px: int = 32) -> np.ndarray:
    """(16, 160, 160) panels -> (16, S, px, px) uint8 slot crops, row-major like the slot bits."""
    e = CELL_EDGES[config]
    cells = [(r, c) for r in range(len(e) - 1) for c in range(len(e) - 1)]
    return np.stack(
        [
            np.stack(
                [
                    cv2.resize(
                        p[e[r] : e[r + 1], e[c] : e[c + 1]],
                        (px, px),
                        interpolation=cv2.INTER_AREA,
                    )
                    for r, c in cells
                ]
            )
            for p in image
        ]
    )


def operator_labels(rule: dict[str, np.ndarray]) -> tuple[np.ndarray, int]:
    """ALANS operator labels (numpos, type, size, color) and whether the Number/Position slot
    follows a Position rule (``exist_rule_indicator``; Constant counts as Position, as in our
    generator)."""
    on_position = int(rule["exist_rule_indicator"])
    numpos = rule["exist_rule"] if on_position else rule["number_rule"]
    labels = [numpos, rule["type_rule"], rule["size_rule"], rule["color_rule"]]
    return np.array([int(v) for v in labels], dtype=np.int64), on_position


def load_raven(root: Path, config: str, part: str, n: int, px: int = 32) -> dict[str, np.ndarray]:
    """The first ``n`` problems of one part: ``crops`` (n, 16, S, px, px) uint8, ``target``
    (n,), ``labels`` (n, 4) and ``numpos_on_position`` (n,), the arrays Tier B trains on."""
    files = problem_files(root, config, part)[:n]
    crops, target, labels, on_pos = [], [], [], []
    for f in files:
        d = _read(f, ("image", "target"))
        if d["image"].size != 16 * 160 * 160:
            raise UserError(f"{f}: image has {d['image'].size} values, expected 16 x 160 x 160")
        crops.append(slot_crops(d["image"].reshape(16, 160, 160).astype(np.uint8), config, px))
        target.append(int(d["target"]))
        lab, p = operator_labels(_read(_rule_file(f), RULE_KEYS))
        labels.append(lab)
        on_pos.append(p)
    return {
        "crops": np.stack(crops),
        "target": np.array(target, dtype=np.int64),
        "labels": np.stack(labels),
        "numpos_on_position": np.array(on_pos, dtype=np.int64),
    }


def check_raven_dir(root: Path, config: str) -> None:
    """Before any training: every part has problem files, every problem file its rule
    annotation, and the first file of each part (and its annotation) reads."""
    for part in ("train", "val", "test"):
        for f in problem_files(root, config, part):
            if not _rule_file(f).is_file():
                raise UserError(
                    f"{f} has no rule annotation {_rule_file(f).name} (run ALANS "
                    "src/auxiliary/generate_rule.py)"
                )
        load_raven(root, config, part, 1)
