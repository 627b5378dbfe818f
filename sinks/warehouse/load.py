"""What one warehouse transaction loads, decoded from the runner's raw batches.

The runner hands :class:`~sinks.warehouse.consumer.WarehouseSink` raw
:class:`~sinks.base.Batch` es (one per partition, Kafka records as received);
:class:`Decoder` turns them into one :class:`Load` for
:meth:`~sinks.warehouse.writer.WarehouseWriter.write`: decoded clean records
(:class:`Item`), records that cannot be loaded (:class:`Rejected`, stored in
metadata.rejected_records) and the next offset of every partition covered.
Tombstones load nothing but still advance their partition's offset. A record
that does not decode (SerdeError) becomes a Rejected row; a registry that does
not answer raises ServiceUnavailableError (transient) and nothing is loaded.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orion.exceptions import SerdeError
from orion.provenance import Provenance, provenance
from orion.registry import Registry
from orion.serde import AvroDecoder
from sinks.base import Batch
from sinks.warehouse.tables import reader_schema

__all__ = ["Decoded", "Decoder", "Item", "Load", "Rejected"]


@dataclass(frozen=True, slots=True)
class Item:
    """One decoded record of a clean topic and where it came from.

    ``source`` is the raw record the processors made it from (its provenance
    headers); None for a record without them.
    """

    stem: str
    topic: str
    partition: int
    offset: int
    record: dict[str, Any]
    source: Provenance | None = None

    def lineage(self, load_batch_id: int | None = None) -> dict[str, Any]:
        """The values of :data:`~sinks.warehouse.tables.LINEAGE` for this record, loaded
        by the load_batches row ``load_batch_id``."""
        src = self.source
        ts = src.timestamp_ms if src is not None else None
        return {
            "clean_topic": self.topic,
            "clean_partition": self.partition,
            "clean_offset": self.offset,
            "raw_topic": src.topic if src is not None else None,
            "raw_partition": src.partition if src is not None else None,
            "raw_offset": src.offset if src is not None else None,
            "raw_timestamp": _instant(ts) if ts is not None and ts >= 0 else None,
            "load_batch_id": load_batch_id,
        }


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that cannot be loaded; stored in metadata.rejected_records with its reason."""

    topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    value: bytes | None


@dataclass
class Load:
    """Records and rejects in offset order per partition, and the positions they end at."""

    items: list[Item] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.items) + len(self.rejected)

    def advance(self, topic: str, partition: int, offset: int) -> None:
        """Record that everything up to ``offset`` of the partition is in this load."""
        self.offsets[(topic, partition)] = offset + 1

    def by_stem(self, load_batch_id: int | None = None) -> dict[str, list[dict[str, Any]]]:
        """The rows to stage per entity: each record's fields and its lineage columns,
        ``load_batch_id`` being the id of the load_batches row this load commits."""
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in self.items:
            out[item.stem].append({**item.record, **item.lineage(load_batch_id)})
        return out

    def singles(self) -> list[Load]:
        """One load per record, in order: how a load that fails a constraint is retried."""
        keyed: list[tuple[str, int, int, Load]] = []
        for item in self.items:
            b = Load(items=[item])
            b.advance(item.topic, item.partition, item.offset)
            keyed.append((item.topic, item.partition, item.offset, b))
        for r in self.rejected:
            b = Load(rejected=[r])
            b.advance(r.topic, r.partition, r.offset)
            keyed.append((r.topic, r.partition, r.offset, b))
        keyed.sort(key=lambda k: k[:3])
        # Offsets of skipped records (tombstones) are carried by a final empty load.
        return [k[3] for k in keyed] + [Load(offsets=dict(self.offsets))]


@dataclass(frozen=True)
class Decoded:
    """One :class:`Load` and what decoding found: tombstones skipped, records rejected."""

    load: Load
    skipped: int
    undecodable: int


class Decoder:
    """Decodes raw batches of clean topics with the registry; one Avro decoder per entity."""

    def __init__(self, registry: Registry, topic_prefix: str = "") -> None:
        self.registry = registry
        self.topic_prefix = topic_prefix
        self._decoders: dict[str, AvroDecoder] = {}

    def _decoder(self, stem: str) -> AvroDecoder:
        decoder = self._decoders.get(stem)
        if decoder is None:
            decoder = AvroDecoder(self.registry, reader_schema(stem))
            self._decoders[stem] = decoder
        return decoder

    def __call__(self, batches: Sequence[Batch]) -> Decoded:
        """Everything in ``batches`` as one load, partition by partition in offset order."""
        load = Load()
        skipped = undecodable = 0
        for batch in batches:
            stem = batch.topic.removeprefix(self.topic_prefix).removeprefix("clean.")
            for r in batch.records:
                load.advance(r.topic, r.partition, r.offset)
                if r.value is None:  # a tombstone on a compacted topic: nothing to load
                    skipped += 1
                    continue
                try:
                    _, record = self._decoder(stem)(r.value)
                except SerdeError as e:
                    undecodable += 1
                    load.rejected.append(
                        Rejected(r.topic, r.partition, r.offset, type(e).__name__, str(e), r.value)
                    )
                    continue
                source = provenance(r.headers)
                load.items.append(Item(stem, r.topic, r.partition, r.offset, record, source))
        return Decoded(load, skipped, undecodable)


def _instant(ms: int) -> dt.datetime:
    """A Kafka timestamp as an aware datetime, exact to the millisecond."""
    return dt.datetime.fromtimestamp(ms // 1000, tz=dt.UTC).replace(microsecond=ms % 1000 * 1000)
