"""Errors of the sink stage.

OrionError
└── SinkError                  a sink could not do its job
    ├── SinkBackpressureError  the destination is unavailable now (TransientError):
    │   │                      the runner pauses the partitions of the failed write for
    │   │                      ``retry_after`` seconds and re-reads the dropped batches
    │   └── WarehouseUnavailableError  (sinks.warehouse) the database does not answer
    └── SinkTerminalError      retrying cannot help (TerminalError): the runner stops
        │                      without recording offsets and the command exits 1
        └── ArchiveConflictError       (sinks.s3) bronze holds other records there
"""

from __future__ import annotations

from orion.exceptions import OrionError, TerminalError, TransientError


class SinkError(OrionError):
    """Root of the sink stage's errors."""


class SinkBackpressureError(SinkError, TransientError):
    """The destination cannot take the batch now; retry the partition after ``retry_after`` s."""

    def __init__(self, message: str, *, retry_after: float, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.retry_after = retry_after


class SinkTerminalError(SinkError, TerminalError):
    """The batch can never be written as it is (e.g. it contradicts data already stored)."""
