"""Errors of the S3 sink; see :mod:`sinks.base.exceptions` for the tree they join.

SinkTerminalError
└── ArchiveConflictError   an existing object holds different records for the same offsets
"""

from __future__ import annotations

from sinks.base import SinkTerminalError


class ArchiveConflictError(SinkTerminalError):
    """Bronze already holds *different* records at these offsets; nothing is overwritten."""
