"""What one record of a raw, clean or dead-letter topic adds to the data-quality counts.

Pure functions over :class:`~sinks.base.KafkaRecord`: nothing is decoded, so
poison counts like any other raw record. Every count is bucketed by the hour
the *raw* record reached Kafka: a raw record's own timestamp, and on clean
records and dead letters the ``orion.source.timestamp`` header the processors
copy from it (their own timestamp when the header is missing). So an event's
arrival and its verdict land in the same hour, and events in - accepted -
rejected (the duplicates, see ``warehouse_sql/0007_dq.sql``) holds per hour.

Called by :class:`sinks.dq.writer.DqWriter` inside its transaction, for the
records at or past each partition's ``dq.counted`` mark.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from orion.deadletter import REASON, SOURCE_TIMESTAMP
from orion.provenance import REPAIRS
from sinks.base import KafkaRecord

__all__ = ["Bucket", "TopicName", "count_records", "hour_of", "parse_topic"]

LAYERS = ("raw", "clean", "dlq")


@dataclass(frozen=True, slots=True)
class TopicName:
    """``<prefix><layer>.<system>.<entity>``, taken apart."""

    layer: str
    system: str
    entity: str


def parse_topic(topic: str, prefix: str = "") -> TopicName | None:
    """The parts of a pipeline topic under ``prefix``; None for any other name."""
    if not topic.startswith(prefix):
        return None
    parts = topic[len(prefix) :].split(".")
    if len(parts) != 3 or parts[0] not in LAYERS or not all(parts):
        return None
    return TopicName(*parts)


# (system, entity, hour, outcome, rule or reason)
Bucket = tuple[str, str, dt.datetime, str, str]


def hour_of(timestamp_ms: int) -> dt.datetime:
    """The UTC hour an epoch-milliseconds instant falls in (1970 for none)."""
    seconds = max(timestamp_ms, 0) // 1000
    return dt.datetime.fromtimestamp(seconds - seconds % 3600, tz=dt.UTC)


def header(record: KafkaRecord, name: str) -> str | None:
    """The last value of header ``name`` as text, or None."""
    found = None
    for k, v in record.headers:
        if k == name and v is not None:
            found = v.decode("utf-8", "replace")
    return found


def source_timestamp(record: KafkaRecord) -> int:
    """The raw record's Kafka timestamp a clean record or dead letter carries (else its own)."""
    text = header(record, SOURCE_TIMESTAMP)
    if text:
        try:
            return int(text)
        except ValueError:
            pass
    return record.timestamp


def count_records(records: Iterable[KafkaRecord], prefix: str = "") -> Counter[Bucket]:
    """The counts ``records`` add, per bucket; records of other topics are left out."""
    counts: Counter[Bucket] = Counter()
    for record in records:
        name = parse_topic(record.topic, prefix)
        if name is None:
            continue
        system, entity = name.system, name.entity
        if name.layer == "raw":
            counts[(system, entity, hour_of(record.timestamp), "in", "")] += 1
            continue
        hour = hour_of(source_timestamp(record))
        if name.layer == "clean":
            counts[(system, entity, hour, "accepted", "")] += 1
            rules = [r for r in (header(record, REPAIRS) or "").split(",") if r]
            if rules:
                counts[(system, entity, hour, "repaired", "")] += 1
                for rule in dict.fromkeys(rules):
                    counts[(system, entity, hour, "repair", rule)] += 1
        else:
            counts[(system, entity, hour, "rejected", header(record, REASON) or "UNKNOWN")] += 1
    return counts
