"""Format: decoded rows <-> the bytes of one Parquet object.

An object's footer says which offsets it covers (``orion.first_offset``,
``orion.last_offset``: tombstones and undecodable records in between hold
no row but are covered) so a writer that finds the key taken knows where the
existing object ends. Writing the same rows twice gives the same bytes
(Parquet has no random sync markers or write times), which is what makes a
rewrite after a crash the same object.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from sinks.silver.arrow_schema import COORDINATES, arrow_schema
from sinks.silver.decode import Row

__all__ = ["Compression", "Coverage", "ParquetFormat"]

Compression = Literal["zstd", "snappy", "gzip", "none"]

FIRST, LAST = b"orion.first_offset", b"orion.last_offset"


@dataclass(frozen=True)
class Coverage:
    """What an existing object says it holds: its offset range and its rows' identities."""

    first_offset: int
    last_offset: int
    rows: list[tuple[int, str]]  # (kafka_offset, event_id), in file order


class ParquetFormat:
    """Typed Parquet of one entity per object (:func:`~sinks.silver.arrow_schema.arrow_schema`)."""

    extension = "parquet"

    def __init__(self, compression: Compression = "zstd", row_group_rows: int = 128 * 1024) -> None:
        self.compression = compression
        self.row_group_rows = row_group_rows

    def table(
        self,
        stem: str,
        topic: str,
        partition: int,
        rows: Sequence[Row],
        offsets: Sequence[int],
        covered: tuple[int, int],
    ) -> pa.Table:
        """The rows as one Arrow table: the record's columns, then the Kafka coordinates."""
        schema = arrow_schema(stem)
        n = len(rows)
        columns = [
            pa.array([r[f.name] for r in rows], type=f.type)
            for f in list(schema)[: -len(COORDINATES)]
        ]
        columns += [
            pa.array([topic] * n, type=pa.string()),
            pa.array([partition] * n, type=pa.int32()),
            pa.array(offsets, type=pa.int64()),
        ]
        meta = {**(schema.metadata or {}), FIRST: str(covered[0]), LAST: str(covered[1])}
        return pa.Table.from_arrays(columns, schema=schema.with_metadata(meta))

    def encode(self, table: pa.Table) -> bytes:
        buf = io.BytesIO()
        pq.write_table(
            table,
            buf,
            compression=self.compression,
            row_group_size=self.row_group_rows,
        )
        return buf.getvalue()

    @staticmethod
    def coverage(body: bytes) -> Coverage:
        """Read back what an object covers, from its footer and two columns."""
        table = pq.read_table(io.BytesIO(body), columns=["kafka_offset", "event_id"])
        meta = table.schema.metadata or {}
        offsets: list[int] = table.column("kafka_offset").to_pylist()  # type: ignore[assignment]
        ids: list[str] = table.column("event_id").to_pylist()  # type: ignore[assignment]
        rows = list(zip(offsets, ids, strict=True))
        return Coverage(int(meta[FIRST]), int(meta[LAST]), rows)
