"""Errors of the warehouse stage.

    OrionError (orion.exceptions)
    ├── ConfigurationError
    │   └── MigrationError          a migration cannot be applied, or the database lags the files
    │       └── ChangedMigrationError   an applied file was edited afterwards
    └── ServiceUnavailableError     (TransientError) the database does not answer
        └── WarehouseUnavailableError

A MigrationError stops every command at start-up: loading into a schema that
differs from the files would corrupt history, and no retry can help. The
database being down is transient: the loader retries a batch, then exits 1
and lets its supervisor restart it (offsets live in the database, so nothing
is lost or doubled).
"""

from __future__ import annotations

from orion.exceptions import ConfigurationError, ServiceUnavailableError

__all__ = ["ChangedMigrationError", "MigrationError", "WarehouseUnavailableError"]


class MigrationError(ConfigurationError):
    """The database schema and warehouse_sql/ disagree, or a migration failed."""


class ChangedMigrationError(MigrationError):
    """An applied migration file's checksum differs from the one recorded."""


class WarehouseUnavailableError(ServiceUnavailableError):
    """The warehouse database cannot be reached."""
