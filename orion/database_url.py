"""libpq connection URLs, parsed and rebuilt part by part.

A password may hold ``@``, ``/`` or ``:`` only percent-encoded, and
``urlsplit().password`` hands it back still encoded (``PGPASSWORD=p%40ss``
fails to log in); rebuilding a URL by string surgery gets the quoting wrong
the other way. So each part is decoded once on the way in (:class:`_Url`) and
encoded again on the way out (:meth:`_Url.render`), query options
(``sslmode=require``) are kept as given, and nothing here prints a password.

SQLAlchemy's URL type did this before; its import was about a second of every
``orion`` process start (``python -X importtime``: sqlalchemy pulls in its
whole SQL compiler), for a few string operations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote, unquote, urlsplit

from orion.exceptions import ConfigurationError

__all__ = ["check", "database_of", "describe", "split_password", "user_of", "with_database"]

_SCHEMES = {"postgresql", "postgres"}


@dataclass(frozen=True)
class _Url:
    scheme: str
    username: str | None
    password: str | None
    host: str
    port: int | None
    database: str
    query: str

    def render(self) -> str:
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{auth}{host}{port}/{quote(self.database, safe='')}{query}"


def _parse(dsn: str) -> _Url:
    refused = ConfigurationError(
        f"not a database URL: {describe_unparsed(dsn)}",
        fix="use a libpq URL such as postgresql://user:pass@host:5432/warehouse",
    )
    if "://" not in dsn:
        raise refused
    try:
        parts = urlsplit(dsn)
        port = parts.port  # ValueError when not a number in 0-65535
    except ValueError as e:
        raise refused from e
    userinfo, at, _ = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return _Url(
        scheme=parts.scheme,
        username=unquote(user) if at else None,
        password=unquote(password) if at and colon else None,
        host=parts.hostname or "",
        port=port,
        database=unquote(parts.path[1:]),
        query=parts.query,
    )


def check(dsn: str) -> str:
    """``dsn`` if it is a PostgreSQL URL with a host and a database; ValueError otherwise."""
    try:
        url = _parse(dsn)
    except ConfigurationError as e:
        raise ValueError(e.message) from e
    if url.scheme.split("+")[0] not in _SCHEMES or not url.host:
        raise ValueError("must be a libpq URL such as postgresql://user:pass@host:5432/db")
    if not url.database.strip("/"):
        raise ValueError("must name a database, e.g. postgresql://user:pass@host:5432/warehouse")
    return dsn


def describe(dsn: str) -> str:
    """``host:port/database``: safe to log (no user, no password)."""
    url = _parse(dsn)
    return f"{url.host}:{url.port or 5432}/{url.database}"


def database_of(dsn: str) -> str:
    """The URL's database name."""
    return _parse(dsn).database


def user_of(dsn: str) -> str:
    """The URL's user name (empty when it names none): safe to print."""
    return _parse(dsn).username or ""


def describe_unparsed(dsn: str) -> str:
    """Something to print about a URL that does not parse: its scheme only."""
    return dsn.split("://", 1)[0] + "://..." if "://" in dsn else "(no scheme)"


def with_database(dsn: str, database: str) -> str:
    """The same server and credentials, another database."""
    return replace(_parse(dsn), database=database).render()


def split_password(dsn: str) -> tuple[str, str | None]:
    """The URL without its password, and the password decoded (for ``PGPASSWORD``).

    A password on a command line is visible to everyone in ``ps``.
    """
    url = _parse(dsn)
    return replace(url, password=None).render(), url.password
