"""Latent Plan Transformer (Kong et al., NeurIPS 2024) in PyTorch."""
