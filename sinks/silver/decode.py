"""Clean Kafka records -> decoded rows, with the clean schema as the reader schema.

The runner hands the sink raw batches; :class:`RowDecoder` decodes each
record's value (Confluent wire format) through the registry into the dict
the clean ``.avsc`` describes. A tombstone (compacted master-data topics)
or a value that does not decode becomes ``None``: it holds no row, is
counted, and its offset is still covered by the object it falls in, so the
partition moves on. A registry that does not answer raises
:class:`~orion.exceptions.ServiceUnavailableError` (transient): nothing of
the batch is written and the runner retries it later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from orion.catalog import entity, load_schema
from orion.exceptions import SerdeError
from orion.registry import Registry
from orion.serde import AvroDecoder
from sinks.base import KafkaRecord
from sinks.silver import metrics

__all__ = ["Row", "RowDecoder"]

log = logging.getLogger("sinks.silver.decode")

Row = dict[str, Any]


class RowDecoder:
    """One Avro decoder per entity, built on first use; not thread-safe."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._decoders: dict[str, AvroDecoder] = {}

    def _decoder(self, stem: str) -> AvroDecoder:
        decoder = self._decoders.get(stem)
        if decoder is None:
            reader = load_schema(entity(stem).schema_path("clean"))
            decoder = self._decoders[stem] = AvroDecoder(self.registry, reader)
        return decoder

    def __call__(self, stem: str, records: Sequence[KafkaRecord]) -> list[Row | None]:
        """The row of each record, in order; None for a tombstone or an undecodable value."""
        decode = self._decoder(stem)
        out: list[Row | None] = []
        tombstones = undecodable = 0
        for r in records:
            if r.value is None:
                tombstones += 1
                out.append(None)
                continue
            try:
                out.append(decode(r.value)[1])
            except SerdeError as e:
                undecodable += 1
                out.append(None)
                log.warning(
                    "clean record does not decode; no silver row",
                    extra={
                        "topic": r.topic,
                        "partition": r.partition,
                        "offset": r.offset,
                        "error": str(e),
                    },
                )
        if records and (tombstones or undecodable):
            topic = records[0].topic
            if tombstones:
                metrics.SKIPPED.labels(topic, "tombstone").inc(tombstones)
            if undecodable:
                metrics.SKIPPED.labels(topic, "undecodable").inc(undecodable)
        return out
