"""The one duration grammar every command shares."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orion.durations import parse_duration, parse_timedelta
from orion.exceptions import ConfigurationError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("100ms", 0.1), ("7d", 604_800.0), ("90s", 90.0), ("2.5h", 9_000.0), ("30m", 1_800.0),
     ("30", 30.0), (" 5 s ", 5.0)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "7w", "-5s", "abc", ".5s", "1e3", "5 sec"])
def test_parse_duration_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ConfigurationError, match="not a duration"):
        parse_duration(text)


def test_parse_timedelta_is_the_same_grammar() -> None:
    assert parse_timedelta("30d") == timedelta(days=30)
    assert parse_timedelta("1.5h") == timedelta(minutes=90)
    assert parse_timedelta("250ms") == timedelta(milliseconds=250)
