"""Label-free baselines for foreground extraction: all-foreground, colour k-means, GrabCut.

None of them sees a ground-truth mask. Rules (stated in the README):
- all-foreground: every pixel is foreground (IoU = foreground fraction of the image).
- colour k-means: 2 clusters (k-means++, 10 restarts) on the RGB values of one image; the cluster
  with the smaller share of the one-pixel image border is foreground (ties: the smaller cluster).
- GrabCut: OpenCV grabCut from a centred rectangle leaving 1/8 of each side as margin, 5 iterations;
  foreground = definite or probable foreground.
"""

from __future__ import annotations

import numpy as np


def all_foreground(x: np.ndarray) -> np.ndarray:
    """x (N, 3, H, W) -> masks (N, H, W) all True."""
    return np.ones((x.shape[0], *x.shape[2:]), dtype=bool)


def border(H: int, W: int) -> np.ndarray:
    """Boolean (H, W) map of the one-pixel image frame."""
    b = np.zeros((H, W), dtype=bool)
    b[0, :] = b[-1, :] = b[:, 0] = b[:, -1] = True
    return b


def kmeans_mask(img: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-cluster colour k-means of one image (3, H, W) -> (H, W) foreground by the border rule."""
    from sklearn.cluster import KMeans

    _, H, W = img.shape
    feats = img.reshape(3, -1).T  # (H*W, 3)
    labels = KMeans(2, n_init=10, random_state=seed).fit_predict(feats).reshape(H, W)
    b = border(H, W)
    share = [np.mean(labels[b] == c) for c in (0, 1)]  # share of the border held by each cluster
    size = [np.mean(labels == c) for c in (0, 1)]
    fg = int(np.argmin(share)) if share[0] != share[1] else int(np.argmin(size))
    return labels == fg


def kmeans(x: np.ndarray) -> np.ndarray:
    """Colour k-means masks for a batch (N, 3, H, W) in [-1, 1]."""
    return np.stack([kmeans_mask(img) for img in x])


def grabcut_mask(img: np.ndarray, iters: int = 5) -> np.ndarray:
    """OpenCV GrabCut of one image (3, H, W) in [-1, 1] from a centred rectangle -> (H, W)."""
    import cv2

    _, H, W = img.shape
    bgr = np.ascontiguousarray((np.clip(img, -1, 1).transpose(1, 2, 0)[..., ::-1] + 1) * 127.5)
    bgr = bgr.round().astype(np.uint8)
    mask = np.zeros((H, W), np.uint8)
    mh, mw = max(1, H // 8), max(1, W // 8)
    rect = (mw, mh, W - 2 * mw, H - 2 * mh)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    cv2.grabCut(bgr, mask, rect, bgd, fgd, iters, cv2.GC_INIT_WITH_RECT)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def grabcut(x: np.ndarray) -> np.ndarray:
    """GrabCut masks for a batch (N, 3, H, W)."""
    return np.stack([grabcut_mask(img) for img in x])
