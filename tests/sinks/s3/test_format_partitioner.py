"""Format and partitioner with plain values: Avro round trip, checksums, keys and dates."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, cast

from fastavro import reader

from sinks.base import KafkaRecord
from sinks.s3.format import AvroContainerFormat, records_checksum
from sinks.s3.partitioner import DailyPartitioner, parse_key, record_date

MIDNIGHT = int(dt.datetime(2025, 3, 1, tzinfo=dt.UTC).timestamp() * 1000)


def records() -> list[KafkaRecord]:
    return [
        KafkaRecord("raw.erp.sales", 2, 10, MIDNIGHT - 1, 1, b"k", b"\x00\x00\x00\x00\x01ab", ()),
        KafkaRecord("raw.erp.sales", 2, 11, MIDNIGHT, 1, None, None, (("h", None), ("h", b"2"))),
        KafkaRecord("raw.erp.sales", 2, 12, MIDNIGHT + 5, 2, b"", b"poison\xff", (("e", b""),)),
    ]


def test_round_trip_is_exact_and_any_avro_reader_opens_the_file() -> None:
    fmt = AvroContainerFormat()
    body = fmt.encode(records())
    assert fmt.decode(body) == records()
    avro = reader(io.BytesIO(body))
    assert avro.codec == "deflate"
    assert avro.metadata["orion.count"] == "3"
    assert [cast(dict[str, Any], d)["offset"] for d in avro] == [10, 11, 12]


def test_checksum_covers_the_records_not_the_container_bytes() -> None:
    fmt = AvroContainerFormat()
    a, b = fmt.encode(records()), fmt.encode(records())
    assert a != b  # random sync markers
    assert records_checksum(fmt.decode(a)) == records_checksum(fmt.decode(b))
    changed = [*records()[:2], KafkaRecord("raw.erp.sales", 2, 12, MIDNIGHT + 5, 2, b"", b"", ())]
    assert records_checksum(changed) != records_checksum(records())
    # None and empty bytes differ
    assert records_checksum([records()[1]]) != records_checksum(
        [KafkaRecord("raw.erp.sales", 2, 11, MIDNIGHT, 1, b"", b"", (("h", None), ("h", b"2")))]
    )


def test_keys_name_the_record_date_partition_and_padded_offset() -> None:
    part = DailyPartitioner()
    before, after = records()[0], records()[1]
    assert part.name(before).key == (
        "bronze/raw.erp.sales/dt=2025-02-28/raw.erp.sales+2+00000000000000000010.avro"
    )
    assert part.folder_of(before) != part.folder_of(after)
    name = parse_key(part.name(after).key)
    assert name is not None and (name.date, name.partition, name.start_offset) == (
        dt.date(2025, 3, 1),
        2,
        11,
    )
    assert parse_key("archive/raw.erp.sales/dt=2025-03-01/manifest.json") is None
    assert record_date(-1) == dt.date(1970, 1, 1)
