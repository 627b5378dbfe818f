"""Format: records <-> bytes of one object, here Avro object container files.

Any Avro reader opens the objects; the schema is ``kafka_record.avsc``
beside this module. The header metadata repeats the offset range, the count
and the records' checksum, so tools can describe an object without decoding
it, but every check in the product recomputes the checksum from the records.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol, cast

from fastavro import parse_schema, reader, writer

from sinks.base import KafkaRecord

SCHEMA_PATH = Path(__file__).with_name("kafka_record.avsc")
META_PREFIX = "orion."
_INT = struct.Struct(">q")


@cache
def kafka_record_schema() -> Any:
    """The parsed KafkaRecord schema, read once from the .avsc file."""
    return parse_schema(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def records_checksum(records: Iterable[KafkaRecord]) -> str:
    """SHA-256 over every field of every record, in order; independent of the container bytes.

    Container files carry random sync markers, so two writes of the same
    records differ byte for byte; this checksum does not.
    """
    h = hashlib.sha256()
    pack = _INT.pack
    for r in records:
        h.update(pack(r.partition) + pack(r.offset) + pack(r.timestamp) + pack(r.timestamp_type))
        for part in (r.topic.encode(), r.key, r.value):
            h.update(pack(-1) if part is None else pack(len(part)) + part)
        h.update(pack(len(r.headers)))
        for k, v in r.headers:
            kb = k.encode()
            h.update(pack(len(kb)) + kb + (pack(-1) if v is None else pack(len(v)) + v))
    return h.hexdigest()


class Format(Protocol):
    """How a batch becomes the bytes of one object, and back."""

    extension: str

    def encode(self, records: Sequence[KafkaRecord]) -> bytes: ...

    def decode(self, body: bytes) -> list[KafkaRecord]: ...


class AvroContainerFormat:
    """Avro object container files of KafkaRecord, deflate-compressed by default.

    ``deflate`` needs no extra dependency; ``zstandard`` works when the
    ``zstandard`` package is installed.
    """

    extension = "avro"

    def __init__(self, codec: str = "deflate", level: int | None = 1, block_bytes: int = 1 << 20):
        self.codec = codec
        self.level = level
        self.block_bytes = block_bytes

    def encode(self, records: Sequence[KafkaRecord]) -> bytes:
        meta = {
            f"{META_PREFIX}first_offset": str(records[0].offset),
            f"{META_PREFIX}last_offset": str(records[-1].offset),
            f"{META_PREFIX}count": str(len(records)),
            f"{META_PREFIX}records_sha256": records_checksum(records),
        }
        buf = io.BytesIO()
        writer(
            buf,
            kafka_record_schema(),
            (_to_avro(r) for r in records),
            codec=self.codec,
            codec_compression_level=self.level,
            sync_interval=self.block_bytes,
            metadata=meta,
        )
        return buf.getvalue()

    def decode(self, body: bytes) -> list[KafkaRecord]:
        return list(iter_records(body))


def iter_records(body: bytes) -> Iterator[KafkaRecord]:
    """The records of one container file, in file order."""
    for item in reader(io.BytesIO(body)):
        d = cast(dict[str, Any], item)
        yield KafkaRecord(
            topic=d["topic"],
            partition=d["partition"],
            offset=d["offset"],
            timestamp=d["timestamp"],
            timestamp_type=d["timestamp_type"],
            key=d["key"],
            value=d["value"],
            headers=tuple((h["key"], h["value"]) for h in d["headers"]),
        )


def _to_avro(r: KafkaRecord) -> dict[str, Any]:
    return {
        "topic": r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "timestamp": r.timestamp,
        "timestamp_type": r.timestamp_type,
        "key": r.key,
        "value": r.value,
        "headers": [{"key": k, "value": v} for k, v in r.headers],
    }
