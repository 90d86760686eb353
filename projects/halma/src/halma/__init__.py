"""HALMA-inspired benchmark: rules reconstructed from the public pilot (see README)."""
