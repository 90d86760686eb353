"""EM Distillation (Xie et al., NeurIPS 2024) in JAX + Flax + Optax.

Modules: ``schedule`` (VP log-SNR schedule), ``model``/``unet`` (denoisers, one-step generator),
``diffusion`` (DSM loss, teacher sampler), ``estep`` (Langevin E-step with noise bookkeeping),
``distill`` (student DSM step, M-step, Diff-Instruct loss, the jitted training step),
``metrics``, ``data``, ``configs``, ``train``, ``reproduce``.
"""

__version__ = "0.1.0"
