"""Exceptions shared by every reprokit module (importable without torch or JAX).

:class:`UserError` marks a problem with what the user passed (a config value, a data file, a
weights file, a device): ``reprokit.lifecycle.entry`` prints its message as one line and exits 2.
"""

from __future__ import annotations

__all__ = ["CheckpointError", "DivergenceError", "UserError"]


class UserError(ValueError):
    """A problem with the user's input, described in one line (exit status 2, no traceback)."""


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or does not match; the message is one line naming it."""


class DivergenceError(FloatingPointError):
    """Training produced a NaN/inf; raised instead of writing a bad checkpoint."""
