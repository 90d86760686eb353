"""The official Birds (CUB-200-2011) data protocol of DRC (official `CubDataset`, data/dataset.py).

The root folder is the CUB release plus DRC's split file:
    images.txt                 `<id> <class>/<name>.jpg` per line
    bounding_boxes.txt         `<id> <x> <y> <w> <h>`
    train_val_test_split.txt   `<id> <split>`: 0 training, 1 validation, 2 test
    images/<class>/<name>.jpg  and  segmentations/<class>/<name>.png
Every image and its segmentation are cropped to the square of side 1.5 max(w, h) centred on the
bounding box (clipped to the image), then resized to size x size; the segmentation is made binary
by PIL's `convert("1")` first, and the mask is that binary image > 0.5 (official `test.py`).
Protocols (the official configs): `cub_all` trains on every image and scores every image again
with the posterior sampled from noise (TRAIN_SPLIT = TEST_SPLIT = -1); `cub_split` trains on
split 0 and scores split 2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from reprokit.errors import UserError

META_FILES = ("images.txt", "bounding_boxes.txt", "train_val_test_split.txt")


def crop_box(bbox: tuple[int, int, int, int], width: int, height: int) -> tuple[int, ...]:
    """(x1, y1, x2, y2) of the square of half-side 0.75 max(w, h) around bbox = (x, y, w, h)."""
    x, y, w, h = bbox
    r = int(max(w, h) * 0.75)
    cx, cy = int((2 * x + w) / 2), int((2 * y + h) / 2)
    return max(0, cx - r), max(0, cy - r), min(width, cx + r), min(height, cy + r)


def read_meta(root: Path) -> list[tuple[str, tuple[int, int, int, int], int]]:
    """(key without .jpg, bounding box, split) per image, in the order of images.txt."""
    missing = [f for f in META_FILES if not (root / f).is_file()]
    if missing:
        raise UserError(f"{root}: not a CUB folder (missing {', '.join(missing)})")
    names = [ln.split()[1] for ln in (root / "images.txt").read_text().splitlines() if ln.strip()]
    boxes = np.loadtxt(root / "bounding_boxes.txt", ndmin=2).astype(int)[:, 1:]
    splits = np.loadtxt(root / "train_val_test_split.txt", ndmin=2).astype(int)[:, 1]
    if not len(names) == len(boxes) == len(splits):
        raise UserError(
            f"{root}: {len(names)} images, {len(boxes)} bounding boxes, {len(splits)} split rows"
        )
    return [(n[:-4], tuple(b), int(s)) for n, b, s in zip(names, boxes, splits)]


def load_item(root: Path, key: str, bbox: tuple, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cropped and resized image (3, size, size) in [-1, 1] and mask (size, size) bool."""
    try:
        img = Image.open(root / "images" / f"{key}.jpg").convert("RGB")
        seg = Image.open(root / "segmentations" / f"{key}.png").convert("1")
    except OSError as err:
        raise UserError(f"{root}: cannot read image or segmentation {key}: {err}") from None
    box = crop_box(bbox, *img.size)
    img = img.crop(box).resize((size, size), Image.BILINEAR)
    seg = seg.crop(box).resize((size, size), Image.BILINEAR)  # PIL: nearest for mode "1"
    x = np.asarray(img, np.float32).transpose(2, 0, 1) / 127.5 - 1.0
    return x, np.asarray(seg, np.float32) > 0.5


def load_cub(root: str, size: int, protocol: str) -> dict[str, np.ndarray]:
    """x_train, m_train, x_test, m_test of the `cub_all` or `cub_split` protocol."""
    folder = Path(root).expanduser()
    meta = read_meta(folder)
    train = [m for m in meta if protocol == "cub_all" or m[2] == 0]
    test = train if protocol == "cub_all" else [m for m in meta if m[2] == 2]
    if not train or not test:
        raise UserError(f"{folder}: {protocol} has {len(train)} training, {len(test)} test images")

    def stack(items: list) -> tuple[np.ndarray, np.ndarray]:
        pairs = [load_item(folder, key, bbox, size) for key, bbox, _ in items]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])

    x_tr, m_tr = stack(train)
    x_te, m_te = (x_tr, m_tr) if test is train else stack(test)
    return {"x_train": x_tr, "m_train": m_tr, "x_test": x_te, "m_test": m_te}
