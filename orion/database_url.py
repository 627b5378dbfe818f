"""libpq connection URLs, parsed and rebuilt by SQLAlchemy's URL type.

Why not ``urllib.parse``: a password may hold ``@``, ``/`` or ``:`` only
percent-encoded, and ``urlsplit().password`` hands it back still encoded
(``PGPASSWORD=p%40ss`` fails to log in); rebuilding a URL by string
surgery gets the quoting wrong the other way. SQLAlchemy's URL decodes and
re-encodes each part, keeps query options (``sslmode=require``) and never
prints the password unless asked.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from orion.exceptions import ConfigurationError

__all__ = ["check", "database_of", "describe", "split_password", "user_of", "with_database"]

_SCHEMES = {"postgresql", "postgres"}


def _parse(dsn: str) -> URL:
    try:
        return make_url(dsn)
    except ArgumentError as e:
        raise ConfigurationError(
            f"not a database URL: {describe_unparsed(dsn)}",
            fix="use a libpq URL such as postgresql://user:pass@host:5432/warehouse",
        ) from e


def check(dsn: str) -> str:
    """``dsn`` if it is a PostgreSQL URL with a host and a database; ValueError otherwise."""
    try:
        url = _parse(dsn)
    except ConfigurationError as e:
        raise ValueError(e.message) from e
    if url.get_backend_name() not in _SCHEMES or not url.host:
        raise ValueError("must be a libpq URL such as postgresql://user:pass@host:5432/db")
    if not (url.database or "").strip("/"):
        raise ValueError("must name a database, e.g. postgresql://user:pass@host:5432/warehouse")
    return dsn


def describe(dsn: str) -> str:
    """``host:port/database``: safe to log (no user, no password)."""
    url = _parse(dsn)
    return f"{url.host}:{url.port or 5432}/{url.database or ''}"


def database_of(dsn: str) -> str:
    """The URL's database name."""
    return _parse(dsn).database or ""


def user_of(dsn: str) -> str:
    """The URL's user name (empty when it names none): safe to print."""
    return _parse(dsn).username or ""


def describe_unparsed(dsn: str) -> str:
    """Something to print about a URL that does not parse: its scheme only."""
    return dsn.split("://", 1)[0] + "://..." if "://" in dsn else "(no scheme)"


def with_database(dsn: str, database: str) -> str:
    """The same server and credentials, another database."""
    return _parse(dsn).set(database=database).render_as_string(hide_password=False)


def split_password(dsn: str) -> tuple[str, str | None]:
    """The URL without its password, and the password decoded (for ``PGPASSWORD``).

    A password on a command line is visible to everyone in ``ps``.
    """
    url = _parse(dsn)
    bare = URL.create(url.drivername, username=url.username, host=url.host, port=url.port,
                      database=url.database, query=url.query)  # fmt: skip
    return bare.render_as_string(hide_password=False), url.password
