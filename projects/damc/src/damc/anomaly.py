"""Anomaly detection with a held-out digit (official train_anomaly_det.py, data/dataset.py).

* class split (official ``MNIST`` dataset class): pool every image; the normal digits (class ≠
  c) are permuted with a fixed seed (official ``RandomState(42)``, the same for every training
  seed), the first ``train_fraction`` (0.8) of them train the model; the test set is the other
  normal digits plus the *whole pool* of class c (so class c never appears in training);
* score S(x) = ‖x − G(z)‖² + E_α(z) + ½‖z‖² with z = q_φ(z|x) (DAMC) or the training-time
  short-run chain (LEBM), then ``eval.refine_steps`` noise-free posterior steps
  (``evaluate.anomaly_scores``). With σ = 1 the negative log joint is ½‖x − G(z)‖² + E_α(z) +
  ½‖z‖², so the official score weighs the reconstruction twice as much; for any σ the negative
  log joint ‖x − G(z)‖²/(2σ²) + E_α(z) + ½‖z‖² is reported beside it; higher = more anomalous;
* AUPRC: area under the precision-recall curve with class c positive, by the trapezoid rule
  over (recall, precision) as the official ``auc(recall, precision)``;
* wrong-score control: uniform random scores (``RANDOM_DRAWS`` per pair, their mean AUPRC),
  whose AUPRC is the anomaly fraction (chance) up to sampling noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class AnomalySplit:
    """Training digits of the normal classes and the test set with its anomaly labels."""

    x_train: torch.Tensor  # (N_train, 1, H, W), normal classes only
    x_test: torch.Tensor  # (N_test, 1, H, W): the other normal digits + all of class ``held``
    is_anomaly: np.ndarray  # (N_test,) bool
    held: int

    @property
    def x_test_normal(self) -> torch.Tensor:
        return self.x_test[torch.from_numpy(~self.is_anomaly)]


def class_split(
    x: np.ndarray, y: np.ndarray, held: int, train_fraction: float, split_seed: int
) -> AnomalySplit:
    """The official split rule (module docstring) on the pooled images ``x`` with labels ``y``."""
    normal = np.flatnonzero(y != held)
    normal = normal[np.random.RandomState(split_seed).permutation(len(normal))]
    n_train = int(len(normal) * train_fraction)
    test = np.concatenate([normal[n_train:], np.flatnonzero(y == held)])
    return AnomalySplit(
        x_train=torch.from_numpy(x[normal[:n_train]]),
        x_test=torch.from_numpy(x[test]),
        is_anomaly=y[test] == held,
        held=held,
    )


def pr_auc(scores: np.ndarray, is_anomaly: np.ndarray) -> float:
    """Area under the precision-recall curve (anomalies positive), trapezoid rule over the
    curve's (recall, precision) points as the official ``auc(recall, precision)``."""
    from sklearn.metrics import auc, precision_recall_curve

    precision, recall, _ = precision_recall_curve(is_anomaly.astype(int), scores)
    return float(auc(recall, precision))


# Random scores averaged per (seed, class) pair: one draw's AUPRC varies by ≈ 0.02 on ≈ 500
# test digits (the pilot), 20 draws measure the control's expected AUPRC to ≈ 0.005.
RANDOM_DRAWS = 20


def random_score_auprc(is_anomaly: np.ndarray, seed: int, draws: int = RANDOM_DRAWS) -> float:
    """Mean AUPRC of ``draws`` uniform random scores, the wrong-score control (chance up to
    noise)."""
    rng = np.random.default_rng(seed)
    return float(np.mean([pr_auc(rng.random(len(is_anomaly)), is_anomaly) for _ in range(draws)]))
