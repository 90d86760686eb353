"""The official Birds protocol (`drc.cub`): the crop around the bounding box and the splits."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from drc.cub import crop_box, load_cub
from PIL import Image

from reprokit.errors import UserError

# (x, y, w, h) of the "bird" (a white rectangle) in each 60x40 image, and the image's split
BIRDS = [((10, 5, 20, 10), 0), ((30, 20, 12, 16), 0), ((0, 0, 8, 8), 2), ((40, 10, 16, 20), 1)]


def fake_cub(root: Path) -> Path:
    """A CUB-layout folder with four 60x40 images whose segmentation is the bounding box."""
    names, boxes, splits = [], [], []
    for i, ((x, y, w, h), split) in enumerate(BIRDS, start=1):
        key = f"001.Bird/bird_{i}"
        (root / "images" / "001.Bird").mkdir(parents=True, exist_ok=True)
        (root / "segmentations" / "001.Bird").mkdir(parents=True, exist_ok=True)
        img = np.zeros((40, 60, 3), np.uint8)
        img[y : y + h, x : x + w] = 255
        Image.fromarray(img).save(root / "images" / f"{key}.jpg", quality=100)
        Image.fromarray(img[..., 0]).save(root / "segmentations" / f"{key}.png")
        names.append(f"{i} {key}.jpg")
        boxes.append(f"{i} {x} {y} {w} {h}")
        splits.append(f"{i} {split}")
    (root / "images.txt").write_text("\n".join(names) + "\n")
    (root / "bounding_boxes.txt").write_text("\n".join(boxes) + "\n")
    (root / "train_val_test_split.txt").write_text("\n".join(splits) + "\n")
    return root


def test_crop_is_a_square_of_1_5_times_the_box_clipped_to_the_image() -> None:
    assert crop_box((10, 5, 20, 10), 60, 40) == (5, 0, 35, 25)  # r = 15 around (20, 10)
    assert crop_box((40, 10, 16, 20), 60, 40) == (33, 5, 60, 35)  # clipped on the right


def test_all_protocol_scores_the_training_images_and_split_uses_0_and_2(tmp_path) -> None:
    root = fake_cub(tmp_path)
    d = load_cub(str(root), 16, "cub_all")
    assert d["x_train"].shape == (4, 3, 16, 16) and d["x_test"] is d["x_train"]
    assert d["x_train"].min() >= -1 and d["x_train"].max() <= 1
    s = load_cub(str(root), 16, "cub_split")
    assert len(s["x_train"]) == 2 and len(s["x_test"]) == 1  # split 1 (validation) is unused
    np.testing.assert_array_equal(s["m_test"][0], d["m_train"][2])


def test_mask_follows_the_crop(tmp_path) -> None:
    """Bird 1 spans x 10-30, y 5-15 of the crop (5, 0, 35, 25): its mask, resized to 30x25
    pixels (16 px), covers the centre and not the corners."""
    d = load_cub(str(fake_cub(tmp_path)), 16, "cub_all")
    m = d["m_train"][0]
    assert m.dtype == bool and m[6:10, 6:10].all() and not m[0, 0] and not m[-1, -1]
    bright = d["x_train"][0].mean(0) > 0  # the image is cropped the same way
    assert (bright == m).mean() > 0.9


def test_not_a_cub_folder_is_one_line(tmp_path) -> None:
    with pytest.raises(UserError, match=re.escape("not a CUB folder (missing images.txt")):
        load_cub(str(tmp_path), 16, "cub_all")
    root = fake_cub(tmp_path / "c")
    (root / "images" / "001.Bird" / "bird_2.jpg").unlink()
    message = "cannot read image or segmentation 001.Bird/bird_2"
    with pytest.raises(UserError, match=re.escape(message)):
        load_cub(str(root), 16, "cub_split")
