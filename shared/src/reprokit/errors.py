"""Exceptions shared by the torch and JAX helpers (importable without either framework)."""

from __future__ import annotations

__all__ = ["CheckpointError", "DivergenceError"]


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or does not match; the message is one line naming it."""


class DivergenceError(FloatingPointError):
    """Training produced a NaN/inf; raised instead of writing a bad checkpoint."""
