"""Hold the clean and dead-letter topics against the producers' ledger.

Reads every clean.* and dlq.* topic under a prefix with read_committed
(what a downstream consumer sees), converts decoded Avro values to the
ledger's JSON forms and reports every disagreement, so a failing check says
exactly which events went wrong. The ledger tests and the chaos drill
(:mod:`orionctl.drills.chaos`) both score a run with it.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition

from orion.catalog import entities
from orion.exceptions import OrionError
from orion.registry import Registry
from orion.serde import AvroDecoder
from orion.settings import OrionSettings
from producers.ledger import LedgerRecord, read_ledger


def to_json(value: Any) -> Any:
    """A decoded clean value in the ledger's JSON form."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        ms = int(value.astimezone(UTC).timestamp() * 1000)
        base = datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{base}.{ms % 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


Record = tuple[str, int, bytes | None, bytes | None, dict[str, bytes]]


class TopicReadError(OrionError):
    """The topics could not be read to their end; the message says what the consumer saw."""


@dataclass(frozen=True, slots=True)
class ReadRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


def read_topics(settings: OrionSettings, topics: list[str], timeout_s: float = 120) -> list[Record]:
    """(topic, partition, key, value, headers) of every committed record of ``topics``."""
    return [
        (r.topic, r.partition, r.key, r.value, r.headers)
        for r in read_records(settings, topics, timeout_s)
    ]


def read_records(
    settings: OrionSettings, topics: list[str], timeout_s: float = 120
) -> list[ReadRecord]:
    """Every committed record of ``topics``, with its offset."""
    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": "score",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    out: list[ReadRecord] = []
    try:
        tps = []
        for t in topics:
            for p in consumer.list_topics(t, timeout=10).topics[t].partitions:
                tps.append(TopicPartition(t, p, 0))
        consumer.assign(tps)
        eof: set[tuple[str, int]] = set()
        deadline = time.monotonic() + timeout_s
        while len(eof) < len(tps) and time.monotonic() < deadline:
            for msg in consumer.consume(5000, timeout=1.0):
                err = msg.error()
                if err is not None:
                    # only the end of a partition counts; any other error fails the read
                    if err.code() != KafkaError._PARTITION_EOF:
                        raise TopicReadError(f"consumer error: {err}")
                    eof.add((msg.topic() or "", msg.partition() or 0))
                    continue
                raw = msg.headers() or []
                pairs = raw.items() if isinstance(raw, dict) else raw
                headers = {k: v for k, v in pairs if isinstance(v, bytes)}
                out.append(ReadRecord(msg.topic() or "", msg.partition() or 0, msg.offset() or 0,
                                      msg.key(), msg.value(), headers))  # fmt: skip
        if len(eof) < len(tps):
            raise TopicReadError(
                f"read {len(eof)} of {len(tps)} partitions to their end in {timeout_s:.0f}s"
            )
    finally:
        consumer.close()
    return out


def read_layer(
    settings: OrionSettings, prefix: str, layer: str, timeout_s: float = 120
) -> list[tuple[str, bytes | None, bytes | None, dict[str, bytes]]]:
    """(topic without prefix, key, value, headers) of every committed ``layer`` record."""
    topics = [prefix + e.topic(layer) for e in entities()]
    return [
        (t.removeprefix(prefix), key, value, headers)
        for t, _, key, value, headers in read_topics(settings, topics, timeout_s)
    ]


@dataclass
class Score:
    problems: list[str] = field(default_factory=list)
    clean_by_topic: Counter[str] = field(default_factory=Counter)
    expected_by_topic: Counter[str] = field(default_factory=Counter)
    dlq: int = 0

    def add(self, problem: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(problem)


def score(settings: OrionSettings, prefix: str, ledger_path: Path, timeout_s: float = 120) -> Score:
    """Every way the processed topics disagree with the ledger."""
    ledger = list(read_ledger(ledger_path))
    s = Score()
    clean = read_layer(settings, prefix, "clean", timeout_s)
    dlq = read_layer(settings, prefix, "dlq", timeout_s)
    s.dlq = len(dlq)
    with Registry(settings.schema_registry_url) as registry:
        decode = AvroDecoder(registry)
        clean_by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for topic, _, value, _ in clean:
            if value is None:
                s.add(f"a tombstone in {topic}")
                continue
            got = {k: to_json(v) for k, v in decode(value)[1].items()}
            clean_by_id[got["event_id"]].append(got)
            s.clean_by_topic[topic] += 1
        dlq_by_id: dict[str, list[str]] = defaultdict(list)
        poison: Counter[tuple[str, str]] = Counter()
        for topic, _key, value, headers in dlq:
            reason = headers["orion.reason"].decode()
            try:
                eid = decode(value or b"")[1]["event_id"]
            except Exception:  # poison: no event id in the bytes
                poison[(topic.replace("dlq.", "raw.", 1), reason)] += 1
                continue
            dlq_by_id[eid].append(reason)
    want_poison: Counter[tuple[str, str]] = Counter()
    for rec in ledger:
        _check(rec, clean_by_id, dlq_by_id, want_poison, s)
    if poison != want_poison:
        s.add(f"poison in DLQ {dict(poison)} != ledger {dict(want_poison)}")
    known = {r.event_id for r in ledger}
    for eid in set(clean_by_id) - known:
        s.add(f"clean record {eid} is in no ledger line")
    return s


def _check(
    rec: LedgerRecord,
    clean_by_id: dict[str, list[dict[str, Any]]],
    dlq_by_id: dict[str, list[str]],
    want_poison: Counter[tuple[str, str]],
    s: Score,
) -> None:
    eid = rec.event_id
    outcome = rec.outcome.value
    if outcome in ("ACCEPT", "REPAIR"):
        s.expected_by_topic[rec.topic.replace("raw.", "clean.", 1)] += 1
        got = clean_by_id.get(eid, [])
        if len(got) != 1:
            s.add(f"{outcome} {eid} ({rec.topic}, {rec.defects}) is in clean {len(got)} times")
        elif got[0] != rec.expected:
            diff = {k: (got[0].get(k), v) for k, v in (rec.expected or {}).items()
                    if got[0].get(k) != v}  # fmt: skip
            s.add(f"{outcome} {eid} differs: {diff}")
        if eid in dlq_by_id:
            s.add(f"{outcome} {eid} ({rec.topic}) is in the DLQ: {dlq_by_id[eid]}")
    elif outcome == "REJECT":
        reason = rec.reason.value if rec.reason else ""
        if reason == "NOT_WIRE_FORMAT":
            want_poison[(rec.topic, reason)] += 1
        elif dlq_by_id.get(eid) != [reason]:
            s.add(f"REJECT {eid} ({rec.topic}) want {reason}, DLQ has {dlq_by_id.get(eid)}")
        if eid in clean_by_id:
            s.add(f"REJECT {eid} ({rec.topic}, {reason}) reached clean")
    elif outcome == "DUPLICATE":
        if rec.defects and rec.defects[0].value == "BUSINESS_DUPLICATE" and eid in clean_by_id:
            s.add(f"business duplicate {eid} reached clean")
        if eid in dlq_by_id:
            s.add(f"duplicate {eid} is in the DLQ")
