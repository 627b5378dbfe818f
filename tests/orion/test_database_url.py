"""libpq URLs: a password that needs quoting survives, and bad URLs are refused."""

from __future__ import annotations

import pytest

from orion import database_url

QUOTED = "postgresql://orion:p%40ss%2Fw%3Ard@db.example:6432/warehouse?sslmode=require"


def test_split_password_decodes_it_and_keeps_the_rest() -> None:
    url, password = database_url.split_password(QUOTED)
    assert password == "p@ss/w:rd"
    assert url == "postgresql://orion@db.example:6432/warehouse?sslmode=require"


def test_split_password_without_one() -> None:
    assert database_url.split_password("postgresql://u@h/d") == ("postgresql://u@h/d", None)


def test_with_database_keeps_credentials_and_options_quoted() -> None:
    other = database_url.with_database(QUOTED, "orion_demo")
    assert other == "postgresql://orion:p%40ss%2Fw%3Ard@db.example:6432/orion_demo?sslmode=require"


def test_describe_never_shows_the_credentials() -> None:
    assert database_url.describe(QUOTED) == "db.example:6432/warehouse"
    assert database_url.describe("postgresql://u:x@h/d") == "h:5432/d"


@pytest.mark.parametrize(
    ("dsn", "message"),
    [("postgresql://u:p@h:5432/", "must name a database"),
     ("mysql://u:p@h/d", "must be a libpq URL"),
     ("postgresql:///d", "must be a libpq URL"),
     ("warehouse", "not a database URL")],
)  # fmt: skip
def test_check_refuses(dsn: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        database_url.check(dsn)
