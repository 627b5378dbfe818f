"""Errors of the silver sink; see :mod:`sinks.base.exceptions` for the tree they join.

SinkTerminalError
└── SilverConflictError   an existing object holds other records for the same offsets
"""

from __future__ import annotations

from sinks.base import SinkTerminalError

__all__ = ["SilverConflictError"]


class SilverConflictError(SinkTerminalError):
    """Silver already holds *different* records at these offsets; nothing is overwritten."""
