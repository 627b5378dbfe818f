"""``orion lineage``: from a warehouse row or an event id back to Kafka and the bronze archive.

The chain of a row: its warehouse row(s) (``sinks/warehouse/lineage.py`` reads
them and the coordinates migration 0008 added), the clean record at the
row's clean coordinates, the raw record at its raw coordinates (from the
clean record's provenance headers), and the bronze object holding that raw
record, found from object names alone: under
``bronze/<raw topic>/dt=<raw record's UTC date>/`` the object of the
partition with the greatest start offset <= the offset (a bronze object never
spans two dates, and objects of a partition chain without gaps). Compacted
days are looked up the same way under ``archive/`` (archive objects are
named like bronze ones). Each found record is compared with what the step
before says: the event id, and bronze's bytes with Kafka's.

From an event id: the warehouse rows holding it, else the SCD2 change logs
(it arrived but started no version), else the dead-letter topics (a dead
letter's value is the raw event's original bytes), else, with ``scan_raw``,
the raw topics, to tell a duplicate the processors dropped (same business
key and content as an event the warehouse holds) from one that was
superseded. What none of these finds is said plainly: not found.

Kafka is read at exact offsets by assignment (read_committed, nothing
committed, no group membership); nothing here writes anything anywhere.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from psycopg2.extensions import connection as Connection

from orion import deadletter
from orion.catalog import entities, entity
from orion.exceptions import OrionError, ServiceUnavailableError
from orion.provenance import Provenance, provenance
from orion.registry import Registry
from orion.serde import AvroDecoder
from orion.settings import OrionSettings
from sinks.base import KafkaRecord
from sinks.base.storage import S3Storage, s3_client
from sinks.s3.format import iter_records
from sinks.s3.partitioner import ObjectName, parse_key, record_date
from sinks.warehouse.lineage import (
    Coordinates,
    WarehouseRow,
    change_log_rows,
    rows_by_event_id,
    rows_by_key,
    table_spec,
)

__all__ = [
    "BronzeHit",
    "Chain",
    "DeadLetter",
    "EventLineage",
    "Found",
    "LineageTracer",
    "bronze_folders",
    "object_holding",
]

TIMEOUT_S = 10.0
PREFIXES = ("bronze", "archive")
_IGNORED = frozenset({"event_id", "produced_at"})  # what a business duplicate may differ in


# -- pure logic -------------------------------------------------------------------------
def object_holding(names: Iterable[ObjectName], partition: int, offset: int) -> ObjectName | None:
    """The object of ``partition`` whose start offset is the greatest <= ``offset``.

    Ties (the same start in bronze and archive, mid-compaction) go to bronze,
    the copy the sink wrote. Whether the object really holds the offset is for
    the caller to check by reading it.
    """
    best: ObjectName | None = None
    for n in names:
        if n.partition != partition or n.start_offset > offset:
            continue
        if (
            best is None
            or n.start_offset > best.start_offset
            or (n.start_offset == best.start_offset and n.prefix == "bronze")
        ):
            best = n
    return best


def bronze_folders(topic: str, timestamp_ms: int | None) -> list[str]:
    """Where to list for a raw record: its date's folder when its timestamp is known (the
    bronze partitioner files by it), else the whole topic; bronze first, then archive."""
    if timestamp_ms is None:
        return [f"{p}/{topic}/" for p in PREFIXES]
    day = record_date(timestamp_ms).isoformat()
    return [f"{p}/{topic}/dt={day}/" for p in PREFIXES]


def same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two decoded raw events are business duplicates (the processors' content hash
    leaves out the same two fields)."""
    return {k: v for k, v in a.items() if k not in _IGNORED} == {
        k: v for k, v in b.items() if k not in _IGNORED
    }


# -- what a lookup found ---------------------------------------------------------------
@dataclass(frozen=True)
class Found:
    """A Kafka record read at its coordinates, decoded when it decodes; ``note`` says why not."""

    topic: str
    partition: int
    offset: int
    record: KafkaRecord | None = None
    decoded: dict[str, Any] | None = None
    note: str = ""

    @property
    def event_id(self) -> str | None:
        return None if self.decoded is None else self.decoded.get("event_id")

    @property
    def where(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


@dataclass(frozen=True)
class BronzeHit:
    """The archived copy of a raw record: the object key, the record as stored, and whether
    it is byte-identical to Kafka's (None when Kafka's copy was not read)."""

    key: str
    record: KafkaRecord
    identical: bool | None


@dataclass
class Chain:
    """One warehouse row (or dead letter's source) followed back to bronze."""

    row: WarehouseRow | None
    clean: Found | None = None
    raw: Found | None = None
    bronze: BronzeHit | None = None
    notes: list[str] = field(default_factory=list)
    repairs: tuple[str, ...] = ()


@dataclass
class DeadLetter:
    """A dead letter holding the event: its own coordinates, why, and where it came from."""

    dlq: Found
    reason: str
    rule: str
    exception: str
    source: Chain


@dataclass
class EventLineage:
    event_id: str
    chains: list[Chain] = field(default_factory=list)
    unversioned: list[WarehouseRow] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    verdict: str = ""


def _headers(record: KafkaRecord) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in record.headers if v is not None}


# -- the lookups -----------------------------------------------------------------------
class LineageTracer:
    """Reads Kafka at exact offsets, the registry and the bronze bucket; close() when done."""

    def __init__(self, settings: OrionSettings) -> None:
        self.settings = settings
        self.consumer = Consumer(
            {
                **settings.kafka_client_config(),
                "group.id": settings.topic_prefix + "orion-lineage",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
                "socket.timeout.ms": int(TIMEOUT_S * 1000),
                # A fetch long-polls the broker connection for this long, and the next
                # lookup's offset request waits behind it: 500 ms (the default) per record.
                "fetch.wait.max.ms": 10,
            }
        )
        self.registry = Registry.of(settings)
        self.decode = AvroDecoder(self.registry)
        self.storage = S3Storage(s3_client(settings), settings.s3_bucket)

    def close(self) -> None:
        self.consumer.close()
        self.registry.close()

    def __enter__(self) -> LineageTracer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Kafka ---------------------------------------------------------------------------
    def read(self, topic: str, partition: int, offset: int) -> Found:
        """The committed record at exactly ``offset``, decoded with its writer schema."""
        tp = TopicPartition(topic, partition)
        try:
            low, high = self.consumer.get_watermark_offsets(tp, timeout=TIMEOUT_S)
        except KafkaException as e:
            raise ServiceUnavailableError(
                f"Kafka did not answer for {topic}[{partition}]: {e}",
                fix="check `orion stack status` and ORION_KAFKA_BOOTSTRAP",
            ) from e
        if offset < low:
            return Found(topic, partition, offset, note=f"gone: the log now starts at {low}")
        if offset >= high:
            return Found(topic, partition, offset, note=f"beyond the end of the log ({high})")
        self.consumer.assign([TopicPartition(topic, partition, offset)])
        deadline = time.monotonic() + TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                for msg in self.consumer.consume(1, timeout=1.0):
                    err = msg.error()
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            return Found(
                                topic, partition, offset, note="not visible (aborted or removed)"
                            )
                        raise KafkaException(err)
                    if msg.offset() != offset:
                        return Found(
                            topic,
                            partition,
                            offset,
                            note=f"not visible (aborted or compacted); next is {msg.offset()}",
                        )
                    return self._decoded(KafkaRecord.from_message(msg))
        finally:
            self.consumer.unassign()
        return Found(topic, partition, offset, note=f"not read within {TIMEOUT_S:.0f}s")

    def _decoded(self, record: KafkaRecord) -> Found:
        found = Found(record.topic, record.partition, record.offset, record)
        if record.value is None:
            return Found(found.topic, found.partition, found.offset, record, note="a tombstone")
        try:
            _, decoded = self.decode(record.value)
        except OrionError as e:
            return Found(
                found.topic, found.partition, found.offset, record, note=f"undecodable: {e}"
            )
        return Found(found.topic, found.partition, found.offset, record, decoded)

    def _scan(self, topics: Iterable[str], needle: bytes) -> Iterator[KafkaRecord]:
        """Every committed record of ``topics`` whose value contains ``needle`` (read to EOF)."""
        existing = self.consumer.list_topics(timeout=TIMEOUT_S).topics
        parts = []
        for topic in topics:
            meta = existing.get(topic)
            for p in meta.partitions if meta is not None else ():
                low, high = self.consumer.get_watermark_offsets(
                    TopicPartition(topic, p), timeout=TIMEOUT_S
                )
                if high > low:
                    parts.append(TopicPartition(topic, p, low))
        if not parts:
            return
        self.consumer.assign(parts)
        pending = {(tp.topic, tp.partition) for tp in parts}
        idle = 0
        try:
            # consume() waits out its timeout unless the batch fills: short polls, so a
            # scan ends soon after the last partition's EOF (100 empty polls: 10 s idle).
            while pending and idle < 100:
                batch = self.consumer.consume(5000, timeout=0.1)
                idle = 0 if batch else idle + 1
                for msg in batch:
                    err = msg.error()
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            pending.discard((str(msg.topic()), int(msg.partition() or 0)))
                            continue
                        raise KafkaException(err)
                    value = msg.value()
                    if value is not None and needle in value:
                        yield KafkaRecord.from_message(msg)
        finally:
            self.consumer.unassign()

    # bronze --------------------------------------------------------------------------
    def bronze(
        self, topic: str, partition: int, offset: int, timestamp_ms: int | None
    ) -> tuple[BronzeHit | None, str]:
        """The archived copy of a raw record, or None and why not."""
        why = ""
        # The record's date folder first; the whole topic when that fails (coordinates
        # without a timestamp, or one that disagrees with the archived record's).
        for ts in dict.fromkeys((timestamp_ms, None)):
            folders = bronze_folders(topic, ts)
            names = [
                n
                for folder in folders
                for key in self.storage.list_keys(folder)
                if (n := parse_key(key)) is not None and n.topic == topic
            ]
            chosen = object_holding(names, partition, offset)
            if chosen is None:
                why = (
                    f"no object of partition {partition} starting at or before {offset} "
                    f"under {' or '.join(folders)}"
                )
                continue
            for r in iter_records(self.storage.get(chosen.key)):
                if r.offset == offset:
                    return BronzeHit(chosen.key, r, None), ""
            why = f"{chosen.key} does not hold offset {offset} (not archived yet?)"
        return None, why

    # chains --------------------------------------------------------------------------
    def follow_raw(self, chain: Chain, source: Coordinates | Provenance) -> None:
        """Fill in the raw record and its bronze copy from raw coordinates."""
        if isinstance(source, Provenance):
            topic, partition, offset, ts = (
                source.topic, source.partition, source.offset, source.timestamp_ms
            )  # fmt: skip
        else:
            if not source.has_raw:
                chain.notes.append("no raw coordinates (loaded without provenance headers)")
                return
            assert source.raw_topic is not None
            assert source.raw_partition is not None and source.raw_offset is not None
            topic, partition, offset = source.raw_topic, source.raw_partition, source.raw_offset
            ts = source.raw_timestamp_ms
        chain.raw = self.read(topic, partition, offset)
        if chain.raw.record is not None and ts is None:
            ts = chain.raw.record.timestamp
        hit, why = self.bronze(topic, partition, offset, ts)
        if hit is None:
            chain.notes.append(f"bronze: {why}")
            return
        kafka = chain.raw.record
        identical = None if kafka is None else hit.record == kafka
        chain.bronze = BronzeHit(hit.key, hit.record, identical)

    def trace(self, row: WarehouseRow) -> Chain:
        """A warehouse row's clean record, raw record and bronze copy."""
        chain = Chain(row)
        c = row.coordinates
        if not c.has_clean:
            chain.notes.append("no clean coordinates (loaded before migration 0008, or inferred)")
            return chain
        assert c.clean_topic is not None
        assert c.clean_partition is not None and c.clean_offset is not None
        chain.clean = self.read(c.clean_topic, c.clean_partition, c.clean_offset)
        if chain.clean.record is not None:
            src = provenance(chain.clean.record.headers)
            if src is not None:
                chain.repairs = src.repairs
                if (src.topic, src.partition, src.offset) != (
                    c.raw_topic, c.raw_partition, c.raw_offset
                ):  # fmt: skip
                    chain.notes.append(
                        f"the clean record's headers name raw {src.topic}[{src.partition}]"
                        f"@{src.offset}, the row another"
                    )
        self.follow_raw(chain, c)
        return chain

    def of_key(self, conn: Connection, table: str, parts: list[str]) -> list[Chain]:
        """Every row of ``table`` with that natural key (prefix), traced."""
        return [self.trace(r) for r in rows_by_key(conn, table_spec(table), parts)]

    def of_event(self, conn: Connection, event_id: str, *, scan_raw: bool = False) -> EventLineage:
        """Where one event went: warehouse rows, change log, dead letters, or (scan_raw) raw."""
        out = EventLineage(event_id)
        out.chains = [self.trace(r) for r in rows_by_event_id(conn, event_id)]
        if out.chains:
            out.verdict = f"in the warehouse: {len(out.chains)} row(s)"
            return out
        out.unversioned = change_log_rows(conn, event_id)
        if out.unversioned:
            out.verdict = (
                "in the warehouse's change log only: it changed nothing in its dimension's "
                "history (same values as the version before it), so it started no version"
            )
            return out
        out.dead_letters = self._dead_letters(event_id)
        if out.dead_letters:
            reasons = ", ".join(sorted({d.reason for d in out.dead_letters}))
            out.verdict = f"rejected: dead-lettered ({reasons})"
            return out
        if scan_raw:
            out.verdict = self._raw_verdict(conn, event_id, out)
            return out
        out.verdict = (
            "not found in the warehouse or the DLQ: deduplicated, superseded by a newer event "
            "of its natural key, still parked, or never produced (--scan-raw searches the raw "
            "topics to tell which)"
        )
        return out

    def _dead_letters(self, event_id: str) -> list[DeadLetter]:
        prefix = self.settings.topic_prefix
        found = []
        topics = [prefix + e.topic("dlq") for e in entities()]
        for record in list(self._scan(topics, event_id.encode())):  # read() reassigns
            dlq = self._decoded(record)
            if dlq.decoded is not None and dlq.event_id != event_id:
                continue  # the id is in some other field's bytes
            h = _headers(record)
            chain = Chain(None)
            src = provenance(record.headers)
            if src is not None:
                self.follow_raw(chain, src)
            else:
                chain.notes.append("the dead letter has no source headers")
            found.append(
                DeadLetter(
                    dlq,
                    h.get(deadletter.REASON, "?"),
                    h.get(deadletter.RULE, ""),
                    ": ".join(
                        x
                        for x in (
                            h.get(deadletter.EXCEPTION_CLASS, ""),
                            h.get(deadletter.EXCEPTION_MESSAGE, ""),
                        )
                        if x
                    ),
                    chain,
                )
            )
        return found

    def _raw_verdict(self, conn: Connection, event_id: str, out: EventLineage) -> str:
        prefix = self.settings.topic_prefix
        raws = [
            f
            for r in self._scan([prefix + e.topic("raw") for e in entities()], event_id.encode())
            if (f := self._decoded(r)).event_id == event_id
        ]
        if not raws:
            return (
                "not found in the warehouse, the DLQ or the raw topics: never produced, or "
                "gone from Kafka by retention (the bronze archive still has it if it was)"
            )
        first = raws[0]
        chain = Chain(None, raw=first)
        assert first.record is not None and first.decoded is not None
        self.follow_raw(chain, Provenance(first.topic, first.partition, first.offset,
                                          first.record.timestamp, ()))  # fmt: skip
        out.chains = [chain]
        stem = first.topic.removeprefix(prefix).removeprefix("raw.")
        key = [str(first.decoded.get(k)) for k in entity(stem).business_key]
        try:
            spec = table_spec(stem)
        except OrionError:
            return f"raw record {first.where}; entity {stem} has no warehouse table"
        for row in rows_by_key(conn, spec, key):
            c = row.coordinates
            if not c.has_raw or row.event_id == event_id:
                continue
            assert c.raw_topic is not None
            assert c.raw_partition is not None and c.raw_offset is not None
            other = self.read(c.raw_topic, c.raw_partition, c.raw_offset)
            if other.decoded is not None and same_content(other.decoded, first.decoded):
                return (
                    f"dropped as a duplicate of event {row.event_id} (raw {other.where}, same "
                    f"business key and content), which {row.table} holds"
                )
        holders = ", ".join(sorted({str(r.event_id) for r in rows_by_key(conn, spec, key)}))
        return (
            f"raw record {first.where} reached no clean topic or DLQ under its id: a duplicate "
            f"of an event no longer in the warehouse, superseded, or still parked; "
            f"{spec.table} {'/'.join(key)} now holds event(s) {holders or 'none'}"
        )


def describe_timestamp(ms: int | None) -> str:
    if ms is None or ms < 0:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds")
