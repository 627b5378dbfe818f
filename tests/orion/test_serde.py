"""Confluent wire format: encode, decode, and typed errors for what cannot be decoded."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastavro import parse_schema

from orion.exceptions import CorruptRecordError, NotWireFormatError, SchemaError, UnknownSchemaError
from orion.registry import Registry
from orion.serde import AvroDecoder, AvroEncoder, schema_id_of
from orion.settings import OrionSettings

V1 = {
    "type": "record",
    "name": "T",
    "namespace": "orion.test",
    "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}],
}


@pytest.mark.parametrize("data", [b"", b"\x00\x00", b"hello world", b"\x01\x00\x00\x00\x01abc"])
def test_bytes_without_magic_byte_and_id_are_not_wire_format(data: bytes) -> None:
    with pytest.raises(NotWireFormatError):
        schema_id_of(data)


def test_encoder_writes_magic_byte_and_big_endian_id() -> None:
    data = AvroEncoder(258, V1)({"id": "a", "amount": 1})
    assert data[:5] == b"\x00\x00\x00\x01\x02"
    assert schema_id_of(data) == 258


@pytest.fixture
def registry(settings: OrionSettings):  # type: ignore[no-untyped-def]
    with Registry(settings.schema_registry_url) as r:
        yield r


@pytest.mark.integration
def test_round_trip_through_the_registry_and_typed_errors(registry: Registry) -> None:
    subj = f"test.{uuid.uuid4().hex[:8]}-value"
    encoder = AvroEncoder.register(registry, subj, V1, json.dumps(V1))
    data = encoder({"id": "x-1", "amount": 123456789})
    decode = AvroDecoder(registry)
    assert decode(data) == (encoder.schema_id, {"id": "x-1", "amount": 123456789})
    with pytest.raises(CorruptRecordError):
        decode(data[:7])
    with pytest.raises(UnknownSchemaError):
        decode(b"\x00\x7f\xff\xff\xf0" + data[5:])


@pytest.mark.integration
def test_registry_refuses_a_change_that_is_not_backward_compatible(registry: Registry) -> None:
    subj = f"test.{uuid.uuid4().hex[:8]}-value"
    first = registry.register(subj, json.dumps(V1))
    assert registry.register(subj, json.dumps(V1)) == first
    breaking = {**V1, "fields": [*V1["fields"], {"name": "currency", "type": "string"}]}
    compatible = {
        **V1,
        "fields": [*V1["fields"], {"name": "currency", "type": "string", "default": "ZAR"}],
    }
    assert not registry.check(subj, json.dumps(breaking))
    with pytest.raises(SchemaError, match="not BACKWARD compatible"):
        registry.register(subj, json.dumps(breaking))
    assert registry.check(subj, json.dumps(compatible))
    assert registry.register(subj, json.dumps(compatible)) != first


class _OneSchema(Registry):
    """A registry that knows one schema, id 1: the decoder's logic without a server."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._parsed = parse_schema(schema)

    def parsed_schema(self, schema_id: int) -> object:
        return self._parsed


@pytest.mark.parametrize("ms", [-62_135_596_800_001, 253_402_300_800_000, 2**63 - 1, -(2**63)])
def test_a_timestamp_beyond_datetime_is_a_corrupt_record_not_an_overflow(ms: int) -> None:
    """Found by the fuzz test: valid Avro longs that datetime cannot hold raised
    OverflowError, which stopped the processor on the record after every restart."""
    schema = {"type": "record", "name": "E", "namespace": "orion.test", "fields": [
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}  # fmt: skip
    data = AvroEncoder(1, schema)({"at": ms})
    with pytest.raises(CorruptRecordError, match="beyond what its logical type holds"):
        AvroDecoder(_OneSchema(schema))(data)


def test_the_first_and_last_instants_datetime_holds_decode() -> None:
    schema = {"type": "record", "name": "E", "namespace": "orion.test", "fields": [
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}  # fmt: skip
    decode = AvroDecoder(_OneSchema(schema))
    assert decode(AvroEncoder(1, schema)({"at": -62_135_596_800_000}))[1]["at"].year == 1
    assert decode(AvroEncoder(1, schema)({"at": 253_402_300_799_999}))[1]["at"].year == 9999
