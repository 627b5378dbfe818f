"""The hand-written container writer against fastavro's reader and the reference checksum."""

from __future__ import annotations

import io
import threading
from typing import Any, cast

import pytest
from fastavro import reader

from sinks.base import KafkaRecord
from sinks.s3.format import AvroContainerFormat, records_checksum


def awkward_records() -> list[KafkaRecord]:
    """Values at every varint width, -1 timestamps, None and empty bytes, long and unicode names."""
    big = bytes(range(256)) * 40  # 10 KiB: a length beyond the 2-byte varint table
    headers: tuple[tuple[str, bytes | None], ...] = (("h", None), ("ü-naïve", b""), ("h", big))
    out = []
    for i, (offset, ts) in enumerate(
        [(0, -1), (1, 0), (63, 1), (64, 8191), (8192, 2**31), (2**40 + 3, 1_796_166_189_123),
         (2**62, 2**63 - 1), (2**63 - 1, -(2**63))]
    ):  # fmt: skip
        out.append(
            KafkaRecord(
                topic="t" * (1 + i * 1500) if i % 3 == 0 else "raw.erp.sales",
                partition=[0, 1, 63, 64, 8191, 8192, 2**31 - 1, 5][i],
                offset=offset,
                timestamp=ts,
                timestamp_type=i % 3,
                key=[None, b"", b"k", big][i % 4],
                value=[b"\x00\x00\x00\x00\x07v", None, big, b""][i % 4],
                headers=headers[: i % 4],
            )
        )
    return out


def fastavro_read(body: bytes) -> tuple[list[KafkaRecord], dict[str, Any], str]:
    avro = reader(io.BytesIO(body))
    records = [
        KafkaRecord(
            topic=d["topic"], partition=d["partition"], offset=d["offset"],
            timestamp=d["timestamp"], timestamp_type=d["timestamp_type"], key=d["key"],
            value=d["value"], headers=tuple((h["key"], h["value"]) for h in d["headers"]),
        )
        for d in (cast(dict[str, Any], item) for item in avro)
    ]  # fmt: skip
    return records, dict(avro.metadata), avro.codec


@pytest.mark.parametrize("codec", ["deflate", "null"])
def test_every_field_reads_back_exactly_with_fastavro(codec: str) -> None:
    records = awkward_records()
    body = AvroContainerFormat(codec=codec).encode(records)
    got, meta, read_codec = fastavro_read(body)
    assert got == records
    assert read_codec == codec
    assert meta["orion.records_sha256"] == records_checksum(records)
    assert (meta["orion.first_offset"], meta["orion.last_offset"], meta["orion.count"]) == (
        "0", str(2**63 - 1), "8",
    )  # fmt: skip


def test_blocks_are_cut_at_the_block_size_and_read_in_order() -> None:
    records = [
        KafkaRecord("raw.iot.telemetry", 3, 1000 + i, 1_700_000_000_000 + i, 1, b"k", b"v" * 300)
        for i in range(2000)
    ]
    small = AvroContainerFormat(block_bytes=4096).encode(records)
    one = AvroContainerFormat(block_bytes=1 << 30).encode(records)
    assert fastavro_read(small)[0] == records == fastavro_read(one)[0]
    # about 170 blocks of 4 KiB, each with its own 16-byte sync marker after it
    sync = small[-16:]
    assert 100 < small.count(sync) < 250 and one.count(one[-16:]) == 2


def test_the_fastavro_path_writes_the_same_records_and_checksum() -> None:
    records = awkward_records()
    fmt = AvroContainerFormat()
    via_fastavro = fmt.encode_with_fastavro(records)
    ours, theirs = fastavro_read(fmt.encode(records)), fastavro_read(via_fastavro)
    assert ours[0] == theirs[0]
    assert ours[1]["orion.records_sha256"] == theirs[1]["orion.records_sha256"]


def test_deflate_on_its_own_thread_writes_the_same_records_and_stops_on_close() -> None:
    records = [
        KafkaRecord("raw.erp.sales", 1, i, 1_700_000_000_000 + i, 1, b"k", bytes(i % 251) * 9)
        for i in range(3000)
    ]
    threaded = AvroContainerFormat(block_bytes=8192, compress_in_thread=True)
    try:
        body = threaded.encode(records)
        again = threaded.encode(records[:10])
    finally:
        threaded.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("bronze-deflate")]
    assert fastavro_read(body)[0] == records and fastavro_read(again)[0] == records[:10]
    assert fastavro_read(body)[1]["orion.records_sha256"] == records_checksum(records)
