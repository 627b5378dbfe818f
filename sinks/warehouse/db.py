"""Connections to the warehouse database, with errors that say what to fix."""

from __future__ import annotations

import psycopg2
from psycopg2.extensions import connection as Connection

from orion.database_url import describe
from sinks.warehouse.exceptions import WarehouseUnavailableError

__all__ = ["connect"]


def connect(dsn: str, *, application: str = "orion-warehouse", timeout_s: int = 10) -> Connection:
    """A new connection (autocommit off, UTC session); WarehouseUnavailableError if refused.

    The session runs in UTC so that timestamps render the same in every
    environment (checksums, COPY, reports), whatever the server's default.
    TCP keepalives and a user timeout let a connection whose peer vanished
    without a FIN or RST (a network partition, a dead host) fail within about
    a minute instead of blocking the loader for ever; a slow but live server
    answers keepalives and acknowledges data, so long merges are unaffected.
    """
    try:
        conn = psycopg2.connect(
            dsn,
            connect_timeout=timeout_s,
            application_name=application,
            options="-c timezone=UTC",
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
            tcp_user_timeout=60_000,
        )
    except psycopg2.OperationalError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise WarehouseUnavailableError(
            f"warehouse database at {describe(dsn)} did not answer: {first}",
            fix="start it (`orion stack up`) or correct ORION_DATABASE_URL",
        ) from e
    return conn
