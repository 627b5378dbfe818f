"""Errors of the dq sink.

    SinkError (sinks.base.exceptions)
    └── SinkBackpressureError   (TransientError)
        └── DqUnavailableError  the database does not answer: the runner pauses and
                                rewinds the partitions and retries after a back-off
                                (also a ServiceUnavailableError, like the warehouse's:
                                reading offsets on assignment retries it too)

Bad configuration (topics missing, schema not migrated) is a ConfigurationError
or MigrationError raised before anything is consumed.
"""

from __future__ import annotations

from orion.exceptions import ServiceUnavailableError
from sinks.base.exceptions import SinkBackpressureError

__all__ = ["DqUnavailableError"]


class DqUnavailableError(SinkBackpressureError, ServiceUnavailableError):
    """The database cannot be reached; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, *, fix: str | None = None, retry_after: float = 1.0) -> None:
        super().__init__(message, retry_after=retry_after, fix=fix)
