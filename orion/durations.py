"""The one grammar for durations in options and environment variables.

``100ms``, ``90s``, ``30m``, ``2.5h``, ``7d``, or a plain number of seconds.
Every command (the processor's windows and timeouts, replay's ``--by-duration``,
the archive's ``--older-than``) parses through here, so one spelling works
everywhere and a typo stops at start-up with the same message.
"""

from __future__ import annotations

import re
from datetime import timedelta

from orion.exceptions import ConfigurationError

__all__ = ["parse_duration", "parse_timedelta", "seconds_setting"]

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|[smhd]?)\s*")
_UNIT_S = {"": 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Seconds in ``text``; ConfigurationError ("not a duration") otherwise."""
    m = _DURATION.fullmatch(text)
    if m is None:
        raise ConfigurationError(
            f"not a duration: {text!r}",
            fix="use a number with ms, s, m, h or d, e.g. 30d, 12h or 100ms",
        )
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def parse_timedelta(text: str) -> timedelta:
    return timedelta(seconds=parse_duration(text))


def seconds_setting(value: object, option: str, variable: str) -> object:
    """A settings validator's input as seconds: text is parsed, anything else passes.

    The error names the command-line option and the environment variable the
    value came through, so a stage's settings need no parsing of their own.
    """
    if not isinstance(value, str):
        return value
    try:
        return parse_duration(value)
    except ConfigurationError as e:
        raise ConfigurationError(f"{option} / {variable}: {e.message}", fix=e.fix) from e
