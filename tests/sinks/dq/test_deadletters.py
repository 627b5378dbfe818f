"""A dead letter as a row: its headers, and the offending field and value its rule names."""

from __future__ import annotations

import datetime as dt

import pytest

from sinks.base import KafkaRecord
from sinks.dq.deadletters import dead_letter_row, offending


@pytest.mark.parametrize(
    ("rule", "message", "field", "value"),
    [
        ("email.email", "'a@@b' is no e-mail", "email", "a@@b"),
        ("money.final_price", "'R 1 2,3,4' is no amount", "final_price", "R 1 2,3,4"),
        ("money.amount", "'-5000.00' is negative", "amount", "-5000.00"),
        ("date.sale_date", "'31-02-2025': day is out of range", "sale_date", "31-02-2025"),
        ("range.speed_kmh", "'9999' outside 0..300", "speed_kmh", "9999"),
        ("enum.status", '"it\'s" not allowed', "status", "it's"),
        ("required.dealer_id", "dealer_id is missing", "dealer_id", None),
        ("reference.vin", "vin='1HGCM82633A004352': no such erp.vehicles record", "vin",
         "1HGCM82633A004352"),
        ("wire.format", "null", None, None),
        ("rules.shape", "KeyError: 'x'", None, None),
        ("schema.unknown", "'x' is odd", None, None),
        ("email.email", "no repr here", "email", None),
        ("email.email", "'unterminated", "email", None),
        (None, None, None, None),
    ],
)  # fmt: skip
def test_the_offending_field_and_value(
    rule: str | None, message: str | None, field: str | None, value: str | None
) -> None:
    assert offending(rule, message) == (field, value)


def test_a_dead_letter_keeps_its_coordinates_headers_and_bytes() -> None:
    headers = (
        ("orion.reason", b"INVALID_EMAIL"),
        ("orion.rule", b"email.email"),
        ("orion.source.topic", b"p.raw.crm.customers"),
        ("orion.source.partition", b"2"),
        ("orion.source.offset", b"41"),
        ("orion.source.timestamp", b"1764600000000"),
        ("orion.exception.class", b"RuleViolation"),
        ("orion.exception.message", b"'a@@b' is no e-mail"),
        ("orion.replayed.from", b"p.dlq.crm.customers:2:7"),
    )
    rec = KafkaRecord("p.dlq.crm.customers", 2, 9, 1764600001000, 1, b"C1", b"\x00\x01raw", headers)
    row = dead_letter_row(rec, "p.")
    assert row is not None
    assert (row.topic, row.partition, row.offset) == ("p.dlq.crm.customers", 2, 9)
    assert (row.system, row.entity, row.reason, row.rule) == ("crm", "customers", "INVALID_EMAIL",
                                                              "email.email")  # fmt: skip
    assert (row.source_topic, row.source_partition, row.source_offset) == (
        "p.raw.crm.customers", 2, 41)  # fmt: skip
    assert row.source_timestamp == dt.datetime(2025, 12, 1, 14, 40, tzinfo=dt.UTC)
    assert row.dlq_timestamp == dt.datetime(2025, 12, 1, 14, 40, 1, tzinfo=dt.UTC)
    assert (row.field, row.value) == ("email", "a@@b")
    assert row.replayed_from == "p.dlq.crm.customers:2:7"
    assert (row.key, row.payload) == (b"C1", b"\x00\x01raw")


def test_poison_without_headers_still_has_a_row() -> None:
    rec = KafkaRecord("dlq.iot.telemetry", 0, 0, -1, 0, None, b"garbage")
    row = dead_letter_row(rec)
    assert row is not None
    assert (row.reason, row.rule, row.source_offset, row.dlq_timestamp) == ("UNKNOWN", None, None,
                                                                            None)  # fmt: skip
    assert row.payload == b"garbage"


def test_only_dead_letter_topics_make_rows() -> None:
    assert dead_letter_row(KafkaRecord("raw.erp.sales", 0, 0, 0, 1, None, b"")) is None
