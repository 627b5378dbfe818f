"""What a raw, clean or dead-letter record counts, and in which hour."""

from __future__ import annotations

import datetime as dt

from sinks.base import KafkaRecord
from sinks.dq.outcomes import count_records, hour_of, parse_topic

T = 1_764_600_000_000  # 2025-12-01 14:40 UTC
HOUR = dt.datetime(2025, 12, 1, 14, tzinfo=dt.UTC)


def record(topic: str, offset: int = 0, ts: int = T, **headers: str) -> KafkaRecord:
    pairs = tuple(("orion." + k.replace("_", "."), v.encode()) for k, v in headers.items())
    return KafkaRecord(topic, 0, offset, ts, 1, b"k", b"v", pairs)


def test_topics_are_taken_apart_under_their_prefix() -> None:
    name = parse_topic("p.raw.erp.sales", "p.")
    assert name is not None and (name.layer, name.system, name.entity) == ("raw", "erp", "sales")
    assert parse_topic("raw.erp.sales", "p.") is None
    assert parse_topic("p.orion-processor-dedup-changelog", "p.") is None
    assert parse_topic("p.silver.erp.sales", "p.") is None


def test_hours_are_utc_and_floor() -> None:
    assert hour_of(T) == HOUR
    assert hour_of(T - T % 3_600_000) == HOUR
    assert hour_of(-1) == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def test_raw_records_count_in_at_their_own_hour_even_as_poison() -> None:
    poison = KafkaRecord("raw.erp.sales", 0, 1, T, 1, None, b"not avro")
    counts = count_records([record("raw.erp.sales"), poison])
    assert counts == {("erp", "sales", HOUR, "in", ""): 2}


def test_verdicts_count_at_the_hour_their_raw_record_arrived() -> None:
    late = T + 3_600_000  # judged an hour later: still the raw record's hour
    counts = count_records(
        [
            record("clean.erp.sales", ts=late, source_timestamp=str(T), repairs=""),
            record(
                "clean.erp.sales",
                1,
                late,
                source_timestamp=str(T),
                repairs="vin_format,date_format,vin_format",
            ),
            record("dlq.erp.sales", ts=late, source_timestamp=str(T), reason="INVALID_VIN"),
        ]
    )
    assert counts == {
        ("erp", "sales", HOUR, "accepted", ""): 2,
        ("erp", "sales", HOUR, "repaired", ""): 1,
        ("erp", "sales", HOUR, "repair", "vin_format"): 1,
        ("erp", "sales", HOUR, "repair", "date_format"): 1,
        ("erp", "sales", HOUR, "rejected", "INVALID_VIN"): 1,
    }


def test_a_record_without_provenance_counts_at_its_own_hour() -> None:
    later = T + 3_600_000
    counts = count_records([record("clean.crm.customers", ts=later)])
    assert counts == {("crm", "customers", HOUR + dt.timedelta(hours=1), "accepted", ""): 1}


def test_other_topics_are_left_out() -> None:
    assert count_records([record("p.raw.erp.sales")], prefix="q.") == {}
