"""Confluent wire format: encode, decode, and typed errors for what cannot be decoded."""

from __future__ import annotations

import json
import uuid

import pytest

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
