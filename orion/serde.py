"""Avro in the Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body.

Encoding is on the producers' hot path, so an :class:`AvroEncoder` resolves
its schema id once and then only writes bytes. Decoding looks the writer
schema up by the id in the bytes (cached by :class:`~orion.registry.Registry`)
and raises a typed :class:`~orion.exceptions.SerdeError` for anything that is
not a decodable record, so a stream can dead-letter it and move on.
"""

from __future__ import annotations

import io
import struct
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from orion.exceptions import CorruptRecordError, NotWireFormatError
from orion.registry import Registry

MAGIC = 0
_HEADER = struct.Struct(">bI")


def schema_id_of(data: bytes) -> int:
    """The schema id in wire-format bytes; NotWireFormatError when there is none."""
    if len(data) < _HEADER.size or data[0] != MAGIC:
        raise NotWireFormatError(
            f"not Confluent wire format: {len(data)} bytes starting {data[:8].hex() or '(empty)'}"
        )
    return int(_HEADER.unpack_from(data)[1])


class AvroEncoder:
    """Encodes records of one subject; the header (magic byte and id) is built once."""

    def __init__(self, schema_id: int, schema: dict[str, Any]) -> None:
        self.schema_id = schema_id
        self._parsed = parse_schema(schema)
        self._header = _HEADER.pack(MAGIC, schema_id)

    @classmethod
    def register(
        cls, registry: Registry, subject: str, schema: dict[str, Any], schema_text: str
    ) -> AvroEncoder:
        return cls(registry.register(subject, schema_text), schema)

    def __call__(self, record: dict[str, Any]) -> bytes:
        buf = io.BytesIO()
        buf.write(self._header)
        schemaless_writer(buf, self._parsed, record)
        return buf.getvalue()


class AvroDecoder:
    """Decodes wire-format bytes with the writer schema their id names."""

    def __init__(self, registry: Registry, reader_schema: dict[str, Any] | None = None) -> None:
        self._registry = registry
        self._reader = parse_schema(reader_schema) if reader_schema else None

    def __call__(self, data: bytes) -> tuple[int, dict[str, Any]]:
        schema_id = schema_id_of(data)
        writer = self._registry.parsed_schema(schema_id)
        try:
            body = io.BytesIO(data)
            body.seek(_HEADER.size)  # no copy of the body
            record = schemaless_reader(body, writer, self._reader)
        except (EOFError, ValueError, IndexError, UnicodeDecodeError, struct.error) as e:
            raise CorruptRecordError(
                f"schema id {schema_id}: Avro body does not decode: {e!r}"
            ) from e
        except OverflowError as e:
            # A long Avro allows but Python's datetime cannot hold: a timestamp-millis
            # before year 1 or after 9999 (found by the fuzz test: it escaped, and the
            # processor stopped on the same record after every restart).
            raise CorruptRecordError(
                f"schema id {schema_id}: a value is beyond what its logical type holds: {e}"
            ) from e
        if not isinstance(record, dict):
            raise CorruptRecordError(f"schema id {schema_id}: decoded to {type(record).__name__}")
        return schema_id, record
