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


def test_parts_are_decoded_once_and_encoded_again() -> None:
    dsn = "postgresql://a%20b:p%25x%40y@[::1]:15432/my%2Fdb?sslmode=require&application_name=x"
    assert database_url.user_of(dsn) == "a b"
    assert database_url.database_of(dsn) == "my/db"
    assert database_url.describe(dsn) == "::1:15432/my/db"
    url, password = database_url.split_password(dsn)
    assert password == "p%x@y"
    assert url == "postgresql://a%20b@[::1]:15432/my%2Fdb?sslmode=require&application_name=x"
    assert database_url.with_database(dsn, "other") == (
        "postgresql://a%20b:p%25x%40y@[::1]:15432/other?sslmode=require&application_name=x"
    )
    assert database_url.with_database("postgresql://h/d", "e") == "postgresql://h/e"
    assert database_url.user_of("postgresql://h/d") == ""


def test_a_port_that_is_no_number_is_refused() -> None:
    with pytest.raises(ValueError, match="not a database URL"):
        database_url.check("postgresql://u:p@h:port/d")
