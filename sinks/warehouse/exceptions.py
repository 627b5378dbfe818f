"""Errors of the warehouse stage.

    OrionError (orion.exceptions)
    ├── ConfigurationError
    │   ├── MigrationError          a migration cannot be applied, or the database lags the files
    │   │   └── ChangedMigrationError   an applied file was edited afterwards
    │   └── CredentialsRefusedError PostgreSQL refused the login (names the URL variable)
    ├── ServiceUnavailableError     (TransientError) a backing service does not answer
    │   └── WarehouseUnavailableError
    └── SinkError (sinks.base.exceptions)
        ├── SinkBackpressureError   (TransientError)
        │   └── WarehouseUnavailableError   the database does not answer
        └── SinkTerminalError
            └── WarehouseGaveUpError        still unavailable after ``db_retries`` back-offs

A MigrationError stops every command at start-up: loading into a schema that
differs from the files would corrupt history, and no retry can help. The
database being down is transient: the loader's runner pauses the partitions
of the failed batch, rewinds them and tries again after a growing back-off
(offsets live in the database, so nothing is lost or doubled). With
``db_retries`` set, the loader gives up after that many consecutive failed
batches (WarehouseGaveUpError, exit 1) and lets its supervisor restart it.
"""

from __future__ import annotations

from orion.exceptions import ConfigurationError, ServiceUnavailableError
from sinks.base.exceptions import SinkBackpressureError, SinkTerminalError

__all__ = [
    "ChangedMigrationError",
    "CredentialsRefusedError",
    "MigrationError",
    "WarehouseGaveUpError",
    "WarehouseUnavailableError",
]


class MigrationError(ConfigurationError):
    """The database schema and warehouse_sql/ disagree, or a migration failed."""


class ChangedMigrationError(MigrationError):
    """An applied migration file's checksum differs from the one recorded."""


class CredentialsRefusedError(ConfigurationError):
    """The server answered and refused the user or password: no retry can help."""


class WarehouseUnavailableError(SinkBackpressureError, ServiceUnavailableError):
    """The warehouse database cannot be reached; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, *, fix: str | None = None, retry_after: float = 1.0) -> None:
        super().__init__(message, retry_after=retry_after, fix=fix)


class WarehouseGaveUpError(SinkTerminalError):
    """The database stayed unavailable for the configured number of retries."""
