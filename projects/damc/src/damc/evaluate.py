"""Metrics of a trained latent EBM (official eval_gen_recon.py, eval_anomaly_det.py).

* test reconstruction MSE: z from the sampler's posterior initialisation (DAMC: q_φ(z|x); LEBM:
  N(0, I) plus the training short-run chain), then ``refine_steps`` noise-free posterior steps;
  MSE = mean over pixels of (G(z) − x)².
* generation: DAMC samples z ~ q_φ(z) (the diffusion prior, optionally refined by EBM Langevin);
  both methods also get EBM samples: ``ebm_gen_steps`` prior Langevin steps from N(0, I).
  proxy-FID (reprokit.proxy) against training images of the normal classes (the code uses the
  training split as FID reference).
* amortizer quality (DAMC): the same MSE from q_φ(z|x) and from the EMA initialiser q_φ̄(z|x)
  without any Langevin step.
* fit gate: the MSE of the trivial predictor that paints every test digit with the training-mean
  image; the proxy-FID feature net's own accuracy on the test digits.
* anomaly score S(x) = ‖x − G(z)‖² + E_α(z) + ½‖z‖² with z inferred as for the MSE; AUPRC with the
  held-out class as positive.
"""

from __future__ import annotations

import numpy as np
import torch

from damc.configs import Config
from damc.damc import Learner, init_posterior
from damc.langevin import posterior_chain, prior_chain


def infer_z(learner: Learner, x: torch.Tensor, cfg: Config) -> torch.Tensor:
    """Posterior inference used by every metric; x: (B, ...) -> z: (B, nz)."""
    lc, ebm = cfg.langevin, learner.ebm
    if learner.sampler == "damc":
        z = init_posterior(learner, x, use_ema=False)
    else:
        z = init_posterior(learner, x)
        z = posterior_chain(ebm, z, x, lc.post_steps, lc.post_step_size, lc.with_noise)
    return posterior_chain(ebm, z, x, cfg.eval.refine_steps, lc.post_step_size, with_noise=False)


def _batched(fn, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    return torch.cat([fn(x[i : i + batch]) for i in range(0, len(x), batch)], dim=0)


def recon_mse(learner: Learner, x: torch.Tensor, cfg: Config) -> float:
    """Mean squared error per pixel of G(z) against x on a test set."""

    def per_sample(xb: torch.Tensor) -> torch.Tensor:
        z = infer_z(learner, xb, cfg)
        with torch.no_grad():
            return (learner.ebm.G(z) - xb).pow(2).flatten(1).mean(dim=1)

    return float(_batched(per_sample, x).mean())


def init_recon_mse(learner: Learner, x: torch.Tensor, use_ema: bool) -> float:
    """MSE per pixel of G(z₀), z₀ ~ q_φ(z|x) (``use_ema``: the initialiser q_φ̄) with no Langevin
    refinement: the amortizer's own quality."""

    def per_sample(xb: torch.Tensor) -> torch.Tensor:
        z = init_posterior(learner, xb, use_ema=use_ema)
        with torch.no_grad():
            return (learner.ebm.G(z) - xb).pow(2).flatten(1).mean(dim=1)

    return float(_batched(per_sample, x).mean())


def mean_image_mse(x_train: torch.Tensor, x_test: torch.Tensor) -> float:
    """MSE per pixel of the trivial predictor x̂ = mean training image, for every test image."""
    return float((x_train.mean(dim=0, keepdim=True) - x_test).pow(2).mean())


def proxy_net_accuracy(x: torch.Tensor, y: np.ndarray) -> float:
    """Accuracy of the proxy-FID feature net (reprokit.proxy) on labelled digits."""
    from reprokit.proxy import ProxyFeatureNet

    probs = ProxyFeatureNet.load_or_train().predict_proba(x.cpu().numpy())
    return float((probs.argmax(axis=1) == y).mean())


def anomaly_terms(learner: Learner, x: torch.Tensor, cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """The two terms of the anomaly score with z inferred as for the MSE: (‖x − G(z)‖²,
    E_α(z) + ½‖z‖²), each (N,)."""

    def per_sample(xb: torch.Tensor) -> torch.Tensor:
        z = infer_z(learner, xb, cfg)
        with torch.no_grad():
            rec = (learner.ebm.G(z) - xb).pow(2).flatten(1).sum(dim=1)
            return torch.stack([rec, learner.ebm.prior_energy(z)], dim=1)

    terms = _batched(per_sample, x).cpu().numpy()
    return terms[:, 0], terms[:, 1]


def anomaly_scores(learner: Learner, x: torch.Tensor, cfg: Config) -> np.ndarray:
    """S(x) = ‖x − G(z)‖² + E_α(z) + ½‖z‖² (official score); higher = more anomalous."""
    rec, prior = anomaly_terms(learner, x, cfg)
    return rec + prior


def auprc(scores: np.ndarray, is_anomaly: np.ndarray) -> float:
    """Area under the precision-recall curve (average precision), anomalies positive."""
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(is_anomaly.astype(int), scores))


def sample_latents(
    learner: Learner, n: int, cfg: Config, source: str, device: torch.device
) -> torch.Tensor:
    """z for generation: ``diffusion`` = q_φ(z) (+ gen_refine_steps EBM Langevin), ``ebm`` =
    ebm_gen_steps prior Langevin from N(0, I)."""
    lc, ebm = cfg.langevin, learner.ebm
    if source == "diffusion":
        z = torch.cat([learner.Q.sample(n=min(500, n - i)) for i in range(0, n, 500)], dim=0)
        steps = cfg.damc.gen_refine_steps
    else:
        z, steps = torch.randn(n, ebm.nz, device=device), cfg.eval.ebm_gen_steps
    return prior_chain(ebm, z, steps, lc.prior_step_size, lc.with_noise)


@torch.no_grad()
def generate(learner: Learner, z: torch.Tensor) -> torch.Tensor:
    """x = G(z), clipped to [-1, 1]."""
    return learner.ebm.G(z).clamp(-1.0, 1.0)


def proxy_fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    """proxy-FID (reprokit.proxy; never comparable with Inception FID)."""
    from reprokit.proxy import proxy_fid as _proxy_fid

    return float(_proxy_fid(real.cpu().numpy(), fake.cpu().numpy()))


def inception_fid(real: torch.Tensor, fake: torch.Tensor, weights_path) -> float:
    """Inception FID with the user's pt_inception weights (reprokit.inception; no download)."""
    from reprokit.fid import fid_from_features
    from reprokit.inception import inception_features, load_fid_inception

    net = load_fid_inception(weights_path, device=real.device)
    return float(
        fid_from_features(inception_features(net, real.cpu()), inception_features(net, fake.cpu()))
    )
