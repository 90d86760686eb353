"""A small proxy feature network for "proxy-FID" on digit-like images, framework-neutral.

A scikit-learn ``MLPClassifier`` (64 -> 128 -> 64 -> 10, ReLU) is trained in a few seconds on
the fixed train split of :func:`reprokit.datasets.load_digits` (8x8, [-1, 1]) and its weights
are cached with :func:`reprokit.cache.cached_npz` (the key includes the scikit-learn
version). Features are the 64 penultimate hidden activations, computed in numpy from the
stored weights, so JAX and torch projects use it alike.

The Fréchet distance of these features is **proxy-FID**: it is only comparable with other
proxy-FID values of this module, never with Inception FID numbers in papers.

Example::

    from reprokit.proxy import ProxyFeatureNet, proxy_fid

    net = ProxyFeatureNet.load_or_train()
    feats = net.features(x)                 # x: (N, 1, 8, 8) in [-1, 1] -> (N, 64)
    score = proxy_fid(x_real, x_fake)       # report it as "proxy-FID"
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

from reprokit.cache import cached_npz
from reprokit.datasets import load_digits
from reprokit.fid import fid_from_features

PROXY_VERSION = 1
HIDDEN = (128, 64)
TRAIN_SEED = 0


def _train_weights() -> dict[str, np.ndarray]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    x_tr, y_tr = load_digits(8, "train")
    x_te, y_te = load_digits(8, "test")
    clf = MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        activation="relu",
        solver="adam",
        alpha=1e-4,
        batch_size=64,
        learning_rate_init=1e-3,
        max_iter=200,
        random_state=TRAIN_SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x_tr.reshape(len(x_tr), 64), y_tr)
    acc = float(clf.score(x_te.reshape(len(x_te), 64), y_te))
    out: dict[str, np.ndarray] = {"test_accuracy": np.float64(acc), "classes": clf.classes_}
    for i, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        out[f"W{i}"], out[f"b{i}"] = W.astype(np.float64), b.astype(np.float64)
    return out


def to_flat8x8(x: np.ndarray) -> np.ndarray:
    """Images (N,64) | (N,s,s) | (N,1,s,s) | (N,s*s) with s a multiple of 8 -> (N, 64) float64.

    Larger images are average-pooled to 8x8. Values are clipped to [-1, 1]; an input whose
    magnitude exceeds 2 is rejected as wrongly scaled (expected [-1, 1]).
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 4:
        if a.shape[1] != 1:
            raise ValueError(f"proxy features need 1-channel images (N,1,s,s), got shape {a.shape}")
        a = a[:, 0]
    if a.ndim == 2:
        s = round(float(np.sqrt(a.shape[1])))
        if s * s != a.shape[1]:
            raise ValueError(f"proxy features: flat input must be (N, s*s), got shape {a.shape}")
        a = a.reshape(len(a), s, s)
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.shape[1] % 8 != 0 or a.shape[1] == 0:
        raise ValueError(
            f"proxy features need square images with side a multiple of 8 "
            f"((N,64), (N,8,8), (N,1,8,8), 16x16, 32x32), got shape {np.shape(x)}"
        )
    if a.size and np.nanmax(np.abs(a)) > 2.0:
        raise ValueError(
            f"proxy features expect pixel values in [-1, 1], "
            f"got range [{a.min():.3g}, {a.max():.3g}]"
        )
    if not np.isfinite(a).all():
        raise ValueError("proxy features: input contains NaN or inf")
    f = a.shape[1] // 8
    a = a.reshape(len(a), 8, f, 8, f).mean(axis=(2, 4))  # average pool to 8x8
    return np.clip(a.reshape(len(a), 64), -1.0, 1.0)


@dataclass
class ProxyFeatureNet:
    """The trained MLP: weights ``Ws[i]`` (in, out), biases ``bs[i]``, and its test accuracy."""

    Ws: list[np.ndarray]
    bs: list[np.ndarray]
    test_accuracy: float

    @classmethod
    def load_or_train(cls, cache_dir: str | os.PathLike | None = None) -> ProxyFeatureNet:
        """Load cached weights (``cache_dir`` or :func:`reprokit.cache.data_dir`) or train them."""
        import sklearn

        params = {"hidden": list(HIDDEN), "seed": TRAIN_SEED, "sklearn": sklearn.__version__}
        arrays = cached_npz("proxy_mlp", PROXY_VERSION, params, _train_weights, root=cache_dir)
        n_layers = len(HIDDEN) + 1
        return cls(
            Ws=[arrays[f"W{i}"] for i in range(n_layers)],
            bs=[arrays[f"b{i}"] for i in range(n_layers)],
            test_accuracy=float(arrays["test_accuracy"]),
        )

    @property
    def dim(self) -> int:
        """Feature dimension (the last hidden layer's width)."""
        return int(self.Ws[-1].shape[0])

    def features(self, x: np.ndarray) -> np.ndarray:
        """Penultimate ReLU activations (N, 64) of images in [-1, 1] (see :func:`to_flat8x8`)."""
        h = to_flat8x8(x)
        for W, b in zip(self.Ws[:-1], self.bs[:-1]):
            h = np.maximum(h @ W + b, 0.0)
        return h

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (N, 10) (softmax of the output layer)."""
        z = self.features(x) @ self.Ws[-1] + self.bs[-1]
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Most likely digit (N,) int64."""
        return self.predict_proba(x).argmax(axis=1).astype(np.int64)


def proxy_fid(real_x: np.ndarray, fake_x: np.ndarray, net: ProxyFeatureNet | None = None) -> float:
    """proxy-FID: Fréchet distance of :class:`ProxyFeatureNet` features of two image sets."""
    net = net if net is not None else ProxyFeatureNet.load_or_train()
    return fid_from_features(net.features(real_x), net.features(fake_x))
