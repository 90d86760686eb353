"""damc: latent EBM prior learned with diffusion-amortized MCMC (Yu et al., NeurIPS 2023).

Modules: ``model`` (generator, energy prior), ``langevin`` (MCMC), ``diffusion`` (the latent
diffusion amortizer q_φ), ``damc`` (the learning step, DAMC and LEBM), ``toy`` (pinwheel with a
known generator), ``evaluate`` (digits metrics), ``train`` (loop, checkpoints, DDP), ``reproduce``.
"""

__version__ = "0.1.0"
