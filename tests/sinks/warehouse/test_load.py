"""The loader's decode step without services: tombstones advance offsets, poison is rejected."""

from __future__ import annotations

from orion.registry import Registry
from sinks.base import Batch, KafkaRecord
from sinks.warehouse.load import Decoder


def rec(topic: str, partition: int, offset: int, value: bytes | None) -> KafkaRecord:
    return KafkaRecord(topic, partition, offset, 1_000, 1, b"k", value, ())


def test_tombstones_load_nothing_but_advance_and_poison_becomes_a_rejected_row() -> None:
    topic = "p.clean.erp.sales"
    first, second = Batch(topic, 0), Batch(topic, 2)
    for r in (rec(topic, 0, 5, None), rec(topic, 0, 6, b"not avro")):
        first.append(r)
    second.append(rec(topic, 2, 9, None))
    registry = Registry("http://127.0.0.1:1")  # never asked: nothing here is wire format
    try:
        decoded = Decoder(registry, "p.")([first, second])
    finally:
        registry.close()
    assert (decoded.skipped, decoded.undecodable) == (2, 1)
    load = decoded.load
    assert load.items == [] and load.offsets == {(topic, 0): 7, (topic, 2): 10}
    [bad] = load.rejected
    assert (bad.topic, bad.partition, bad.offset, bad.reason, bad.value) == (
        topic,
        0,
        6,
        "NotWireFormatError",
        b"not avro",
    )
    assert len(load) == 1
