"""Image dataset loaders that never touch the network.

* :func:`load_digits` - scikit-learn's 8x8 digits (ships with scikit-learn), optionally
  upsampled to 16x16 / 32x32, scaled to [-1, 1], with a fixed 80/20 train/test split.
* :func:`load_npz_images` - an image array from a user-supplied ``.npz`` file.
* :func:`load_image_folder` - a folder of image files (Pillow), optionally with a mask folder.

Every problem with user data raises :class:`DatasetError` (a ``ValueError``) whose one-line
message names the folder or file and what was expected.

Example::

    from reprokit.datasets import load_digits

    x, y = load_digits(size=16, split="train")   # x: (1438, 1, 16, 16) float32, y: (1438,) int64
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from reprokit.errors import UserError

DIGITS_SIZES = (8, 16, 32)
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.2
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")


class DatasetError(UserError):
    """A missing or malformed dataset file; the message is one line naming the file."""


@functools.lru_cache(maxsize=1)
def _digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = bunch.images.astype(np.float32) / 8.0 - 1.0  # pixel values 0..16 -> [-1, 1]
    y = bunch.target.astype(np.int64)
    perm = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(y))
    n_test = round(DIGITS_TEST_FRACTION * len(y))
    test, train = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    return x[train], y[train], x[test], y[test]


def upsample_bilinear(x: np.ndarray, size: int) -> np.ndarray:
    """Bilinear (scipy.ndimage.zoom order=1) resize of ``(..., H, W)`` to ``(..., size, size)``."""
    from scipy.ndimage import zoom

    h, w = x.shape[-2:]
    if (h, w) == (size, size):
        return x.copy()
    factors = (1.0,) * (x.ndim - 2) + (size / h, size / w)
    return zoom(x, factors, order=1, mode="nearest", grid_mode=False).astype(x.dtype)


def load_digits(size: int = 8, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn digits as ``(x float32 (N, 1, size, size) in [-1, 1], y int64 (N,))``.

    The split is fixed: a permutation with seed 0 puts 20% (359 images) in ``"test"`` and the
    other 1438 in ``"train"`` (``"all"`` gives train followed by test). ``size`` 16 or 32 is a
    bilinear upsampling of the 8x8 images.
    """
    if size not in DIGITS_SIZES:
        raise ValueError(f"load_digits: size must be one of {DIGITS_SIZES}, got {size!r}")
    if split not in ("train", "test", "all"):
        raise ValueError(f"load_digits: split must be 'train', 'test' or 'all', got {split!r}")
    x_tr, y_tr, x_te, y_te = _digits_split()
    if split == "train":
        x, y = x_tr, y_tr
    elif split == "test":
        x, y = x_te, y_te
    else:
        x, y = np.concatenate([x_tr, x_te]), np.concatenate([y_tr, y_te])
    x = x[:, None, :, :]  # (N, 1, 8, 8)
    if size != 8:
        x = np.clip(upsample_bilinear(x, size), -1.0, 1.0)
    return np.array(x, dtype=np.float32, order="C", copy=True), y.copy()


def _to_nchw(a: np.ndarray, where: str) -> np.ndarray:
    if a.ndim == 3:
        return a[:, None]
    if a.ndim == 4:
        if a.shape[-1] in (1, 3, 4) and a.shape[1] not in (1, 3, 4):
            return np.transpose(a, (0, 3, 1, 2))  # NHWC -> NCHW
        return a
    raise DatasetError(f"{where}: expected images of rank 3 (N,H,W) or 4, got shape {a.shape}")


def load_npz_images(path: str | os.PathLike, key: str | None = None) -> np.ndarray:
    """Images from an ``.npz`` file as float32 ``(N, C, H, W)``.

    ``key`` selects the array; by default ``"x"`` or ``"images"``, or the only array in the file.
    ``uint8`` arrays are scaled from [0, 255] to [-1, 1]; float arrays are returned unscaled.
    ``(N, H, W)`` gains a channel axis and ``(N, H, W, C)`` (C in 1, 3, 4) is transposed.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: file not found (expected an .npz file of images)")
    try:
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            if key is None:
                preferred = [k for k in ("x", "images") if k in names]
                if preferred:
                    key = preferred[0]
                elif len(names) == 1:
                    key = names[0]
                else:
                    raise DatasetError(
                        f"{path}: several arrays {names}; pass key= (one of them) to choose"
                    )
            if key not in names:
                raise DatasetError(f"{path}: no array {key!r} (arrays: {names})")
            a = z[key]
    except DatasetError:
        raise
    except Exception as e:  # zipfile / pickle / OS errors from a malformed file
        raise DatasetError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    where = f"{path}[{key}]"
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 127.5 - 1.0
    elif np.issubdtype(a.dtype, np.number) and not np.iscomplexobj(a):
        a = a.astype(np.float32)
    else:
        raise DatasetError(f"{where}: expected a numeric image array, got dtype {a.dtype}")
    return np.ascontiguousarray(_to_nchw(a, where))


def _image_files(folder: Path, what: str) -> list[Path]:
    if not folder.is_dir():
        raise DatasetError(f"{folder}: {what} folder not found")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    if not files:
        raise DatasetError(
            f"{folder}: no image files ({', '.join(IMAGE_EXTENSIONS)}) in {what} folder"
        )
    return files


def _size_hw(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, int):
        return (size, size)
    h, w = size
    return (int(h), int(w))


def _read_image(path: Path, mode: str, size_hw: tuple[int, int] | None) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert(mode)
            if size_hw is not None and im.size != (size_hw[1], size_hw[0]):
                resample = Image.Resampling.BILINEAR if mode == "RGB" else Image.Resampling.NEAREST
                im = im.resize((size_hw[1], size_hw[0]), resample=resample)
            return np.asarray(im)
    except Exception as e:  # PIL.UnidentifiedImageError, truncated files, OS errors
        raise DatasetError(f"{path}: cannot read image ({type(e).__name__}: {e})") from None


def load_image_folder(
    path: str | os.PathLike,
    mask_dir: str | os.PathLike | None = None,
    size: int | tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a folder: ``(images float32 (N, 3, H, W) in [-1, 1], masks (N, H, W) bool | None)``.

    Files are read in sorted name order. ``size`` (int or ``(H, W)``) resizes images
    (bilinear) and masks (nearest); without it every image must have the same size. Masks are
    matched to images by file stem (``a.png`` <-> ``a.png`` / ``a.jpg``), read as grayscale and
    thresholded at half their range (``> 127`` for 0..255, ``> 0`` for 0/1 masks).
    """
    folder = Path(path)
    files = _image_files(folder, "image")
    size_hw = _size_hw(size)
    images = []
    for f in files:
        img = _read_image(f, "RGB", size_hw)
        if images and img.shape != images[0].shape:
            raise DatasetError(
                f"{f}: image size {img.shape[1]}x{img.shape[0]} differs from "
                f"{images[0].shape[1]}x{images[0].shape[0]} of {files[0].name}; pass size="
            )
        images.append(img)
    x = np.stack(images).astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1.0
    if mask_dir is None:
        return np.ascontiguousarray(x), None

    mdir = Path(mask_dir)
    mask_files = _image_files(mdir, "mask")
    by_stem: dict[str, Path] = {}
    for m in mask_files:
        if m.stem in by_stem:
            raise DatasetError(f"{m}: two mask files share the stem {m.stem!r}")
        by_stem[m.stem] = m
    if len(mask_files) != len(files):
        raise DatasetError(
            f"{mdir}: {len(mask_files)} mask files but {len(files)} images in {folder}"
        )
    H, W = x.shape[2:]
    masks = []
    for f in files:
        m_path = by_stem.get(f.stem)
        if m_path is None:
            raise DatasetError(f"{mdir}: no mask with stem {f.stem!r} for image {f.name}")
        m = _read_image(m_path, "L", size_hw)
        if m.shape != (H, W):
            raise DatasetError(
                f"{m_path}: mask size {m.shape[1]}x{m.shape[0]} differs from its image {W}x{H}"
            )
        masks.append(m > (127 if m.max() > 1 else 0))
    return np.ascontiguousarray(x), np.stack(masks)
