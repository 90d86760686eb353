"""ldebm: Latent Diffusion Energy-Based Model for interpretable text modeling (Yu et al. 2022).

Modules: ``schedule`` (the official T-level noise schedule), ``energy`` (the spectral-normed
residual EBM with time embedding and K-way symbol-vector coupling; the SVEBM-IB energy),
``langevin`` (recovery-likelihood Langevin, progressive ancestral sampling, short-run Langevin),
``objectives`` (training pairs, per-level contrastive loss, information bottleneck, pseudo-label
cross-entropy), ``clustering`` (k-means pseudo-labels and the uniform-per-cluster sampler),
``target`` (the fixed 2-D 16-Gaussian latent target with its exact density and wrong methods),
``metrics`` (precision, mode-histogram KL, log-density, MMD², NMI, grid-density TV),
``prior`` (prior-only training of LDEBM / SVEBM-IB), ``claims``, ``configs``, ``reproduce``.
"""

__version__ = "0.1.0"
