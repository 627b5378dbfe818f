"""Fast, deterministic time and id formatting for the hot loop.

Formatting a datetime per event costs microseconds; the simulator formats
millions, so instants are plain epoch milliseconds and strings are built
from small caches (one entry per day seen recently).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

__all__ = [
    "DAY_MS",
    "SAST_OFFSET_MS",
    "Formatter",
    "date_to_ms",
    "new_uuid",
]

DAY_MS = 86_400_000
SAST_OFFSET_MS = 7_200_000  # South Africa Standard Time, UTC+02:00, no DST
_EPOCH = date(1970, 1, 1)
_CACHE_LIMIT = 4096
# Version 4 in bits 76-79, RFC 4122 variant (10) in bits 62-63.
_UUID_MASK = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID_SET = (0x4 << 76) | (0x2 << 62)


def date_to_ms(d: date) -> int:
    """Midnight UTC of ``d`` as epoch milliseconds."""
    return (d - _EPOCH).days * DAY_MS


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng`` (never from the OS)."""
    bits = (rng.getrandbits(128) & _UUID_MASK) | _UUID_SET
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Formatter:
    """Formats days and instants, caching ``YYYY-MM-DD`` per day."""

    __slots__ = ("_days",)

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def day(self, day_number: int) -> str:
        """``YYYY-MM-DD`` of a day number (days since 1970-01-01)."""
        s = self._days.get(day_number)
        if s is None:
            if len(self._days) > _CACHE_LIMIT:
                self._days.clear()
            s = (_EPOCH + timedelta(days=day_number)).isoformat()
            self._days[day_number] = s
        return s

    def sast_date(self, ms: int) -> str:
        """The South African calendar date of an instant."""
        return self.day((ms + SAST_OFFSET_MS) // DAY_MS)

    def iso(self, ms: int) -> str:
        """``YYYY-MM-DDTHH:MM:SS.mmmZ`` of an instant (UTC)."""
        d, rest = divmod(ms, DAY_MS)
        day = self._days.get(d) or self.day(d)
        h, rest = divmod(rest, 3_600_000)
        m, rest = divmod(rest, 60_000)
        s, milli = divmod(rest, 1000)
        return f"{day}T{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"
