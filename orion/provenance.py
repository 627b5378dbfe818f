"""Headers on clean records: which raw record each came from, and what was repaired.

The processors set them on every clean record (dead letters carry the same
source headers, see :mod:`orion.deadletter`), so a sink can keep a row's
lineage (raw topic, partition, offset) and count repairs per rule without
asking the processors anything. All values are UTF-8 text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orion.deadletter import SOURCE_OFFSET, SOURCE_PARTITION, SOURCE_TIMESTAMP, SOURCE_TOPIC

__all__ = ["REPAIRS", "Provenance", "clean_headers", "provenance"]

REPAIRS = "orion.repairs"
"""Comma-separated names of the repair rules that changed the record (empty: none)."""


@dataclass(frozen=True, slots=True)
class Provenance:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    """The raw record's Kafka timestamp: when the source handed it to Kafka."""
    repairs: tuple[str, ...]


def clean_headers(
    topic: str, partition: int, offset: int, timestamp_ms: int | None, repairs: Iterable[str]
) -> list[tuple[str, str | bytes | None]]:
    """The headers of one clean record read from ``topic``/``partition`` at ``offset``."""
    return [
        (SOURCE_TOPIC, topic.encode()),
        (SOURCE_PARTITION, str(partition).encode()),
        (SOURCE_OFFSET, str(offset).encode()),
        (SOURCE_TIMESTAMP, b"" if timestamp_ms is None else str(timestamp_ms).encode()),
        (REPAIRS, ",".join(repairs).encode()),
    ]


def provenance(headers: Iterable[tuple[str, bytes | None]] | None) -> Provenance | None:
    """The provenance in a clean record's headers; None when they are not there (older
    records, or a record some other producer wrote)."""
    found = {k: v.decode() for k, v in headers or () if v is not None}
    try:
        ts = found.get(SOURCE_TIMESTAMP, "")
        repairs = found.get(REPAIRS, "")
        return Provenance(
            found[SOURCE_TOPIC],
            int(found[SOURCE_PARTITION]),
            int(found[SOURCE_OFFSET]),
            int(ts) if ts else None,
            tuple(r for r in repairs.split(",") if r),
        )
    except (KeyError, ValueError):
        return None
