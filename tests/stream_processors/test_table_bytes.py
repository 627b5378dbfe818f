"""Table rows written past Faust's table path are the bytes Faust itself writes (pure logic).

Faust's recovery puts changelog bytes into RocksDB as they are, and the table
decodes them with its own serializers: a difference would make a restarted
worker forget or misread what it saw.
"""

from __future__ import annotations

from pathlib import Path

import faust

from stream_processors.app import table_bytes


def test_keys_and_values_match_fausts_own_encoding(tmp_path: Path) -> None:
    app = faust.App("bytes-check", broker="kafka://127.0.0.1:9", store="memory://",
                    datadir=str(tmp_path), autodiscover=False)  # fmt: skip
    table = app.Table("dedup", partitions=3, key_type=str)
    for key, value in (
        ("1|erp.sales|0a1b|9f8e", [1_767_225_600_000, 12, "0b1e6c3a-4c1b-4a8e-9f5e-2d7c1a9b0e44"]),
        ("0|crm.customers||00", [0, 0, "é-ünïcode"]),
        ("2|erp.payments|17", {"s": "erp.payments", "o": 17, "key": "S-1", "ts": 1.5, "v": "AAE="}),
    ):
        msg = table.changelog_topic.as_future_message(
            key=key, value=value, partition=0,
            key_serializer=table.key_serializer, value_serializer=table.value_serializer,
        ).message  # fmt: skip
        assert (table_bytes(key), table_bytes(value)) == (msg.key, msg.value)
        assert table.data._decode_key(table_bytes(key)) == key
        assert table.data._decode_value(table_bytes(value)) == value
