"""Partitioner: the key of a record's object.

Keys are ``bronze/<topic>/dt=<date>/<topic>+<partition>+<start offset>.avro``.

The date is the record's own timestamp (UTC), never the wall clock, so a
rewrite after a crash lands on the same key. A name holds the partition and
the zero-padded start offset, so listing a folder sorts objects in offset
order and readers can plan without opening them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sinks.base import KafkaRecord

OFFSET_DIGITS = 20
DAY_MS = 86_400_000
_NAME = re.compile(r"^(?P<topic>.+)\+(?P<partition>\d+)\+(?P<offset>\d{20})\.(?P<ext>[a-z0-9]+)$")


def record_date(timestamp_ms: int) -> dt.date:
    """UTC date of a Kafka timestamp; a missing timestamp (-1) files under 1970-01-01."""
    return dt.datetime.fromtimestamp(max(timestamp_ms, 0) / 1000, tz=dt.UTC).date()


@dataclass(frozen=True)
class ObjectName:
    """What an object's key says about its content."""

    prefix: str
    topic: str
    date: dt.date
    partition: int
    start_offset: int

    @property
    def key(self) -> str:
        return (
            f"{self.prefix}/{self.topic}/dt={self.date.isoformat()}/"
            f"{self.topic}+{self.partition}+{self.start_offset:0{OFFSET_DIGITS}d}.avro"
        )


def parse_key(key: str) -> ObjectName | None:
    """The parts of an object key this module wrote; None for anything else (manifests)."""
    parts = key.split("/")
    if len(parts) != 4 or not parts[2].startswith("dt="):
        return None
    m = _NAME.match(parts[3])
    if m is None or m["topic"] != parts[1]:
        return None
    try:
        date = dt.date.fromisoformat(parts[2][3:])
    except ValueError:
        return None
    return ObjectName(parts[0], parts[1], date, int(m["partition"]), int(m["offset"]))


class DailyPartitioner:
    """One folder per topic and record date under ``prefix``."""

    def __init__(self, prefix: str = "bronze") -> None:
        self.prefix = prefix.strip("/")

    def folder_of(self, record: KafkaRecord) -> dt.date:
        """The folder a record belongs in."""
        return record_date(record.timestamp)

    @staticmethod
    def same_folder(a: KafkaRecord, b: KafkaRecord) -> bool:
        """Whether two records share a folder; checked per record, so integer maths only."""
        return max(a.timestamp, 0) // DAY_MS == max(b.timestamp, 0) // DAY_MS

    def name(self, first: KafkaRecord) -> ObjectName:
        """The object that starts with ``first``."""
        return ObjectName(
            self.prefix, first.topic, self.folder_of(first), first.partition, first.offset
        )
