"""Connections to the warehouse database, with errors that say what to fix."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import psycopg2
from psycopg2.extensions import connection as Connection

from orion.database_url import describe, user_of
from sinks.warehouse.exceptions import CredentialsRefusedError, WarehouseUnavailableError

__all__ = ["connect"]


# What libpq and the server say when the login itself is refused (wrong or
# missing password, unknown user under scram/md5 auth).
_REFUSED = ("password authentication failed", "no password supplied", 'role "')


def connect(
    dsn: str,
    *,
    application: str = "orion-warehouse",
    timeout_s: int = 10,
    variable: str = "ORION_DATABASE_URL",
) -> Connection:
    """A new connection (autocommit off, UTC session).

    WarehouseUnavailableError when the server does not answer (transient);
    CredentialsRefusedError when it answers and refuses the login, naming
    ``variable`` (the setting the URL came from) and the user, never the
    password.

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
        if any(marker in str(e) for marker in _REFUSED):
            raise CredentialsRefusedError(
                f"PostgreSQL at {describe(dsn)} refused the credentials of user "
                f"{user_of(dsn)!r} ({variable})",
                fix=f"check the password in {variable} (or the file {variable}_FILE names)",
            ) from e
        raise WarehouseUnavailableError(
            f"warehouse database at {describe(dsn)} did not answer: {first}",
            fix=f"start it (`orion stack up`) or correct {variable}",
        ) from e
    return conn


class Reconnecting:
    """One connection of a database sink: opened on first use, and again after it was lost.

    ``open`` connects and checks (the schema is current, staging exists); the
    warehouse and the dq writers share this instead of each keeping the state.
    """

    def __init__(self, open: Callable[[], Connection], what: str, log: logging.Logger) -> None:
        self._open = open
        self._what = what
        self._log = log
        self._conn: Connection | None = None

    def get(self) -> Connection:
        """The open connection, or a new one (the open callback's errors if refused)."""
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def discard(self, error: Exception) -> None:
        """Forget a connection that failed; the next :meth:`get` opens another."""
        self._log.warning(f"{self._what} connection lost", extra={"error": str(error).strip()})
        if self._conn is not None:
            with contextlib.suppress(psycopg2.Error):
                self._conn.close()
        self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
