"""Work-arounds for faust-streaming defects that break exactly-once.

:func:`apply` runs once before the app is built (table recovery, below, and
fair delivery between partitions, :func:`_take_turns`);
:func:`deliver_every_fetched_record` runs when the agent starts. The other
work-arounds live where they act: :mod:`stream_processors.app` (table changes
in the transaction, commits), :mod:`stream_processors.offsets` and
:mod:`stream_processors.positions` (offsets, skipped records).

Table recovery under ``processing_guarantee="exactly_once"`` asks the consumer
thread for the changelog partitions' high-water marks, and faust-streaming
0.15 answers with aiokafka's ``last_stable_offset(tp)``: the LSO seen in the
last *fetch response* of that partition. Right after an assignment nothing
has been fetched yet, so the answer is ``None``, recovery reads it as "empty
changelog" (high-water -1) and skips it. Every table came back empty after a
restart or a rebalance: parked facts were never decided and duplicates got
through (seen 2026-11-25: all parked production costs and inventory lost
after a SIGKILL). ``end_offsets`` on the same read_committed consumer asks the
broker (ListOffsets with the read_committed isolation level), which returns
the LSO whether or not anything was fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiokafka.consumer.fetcher import Fetcher  # type: ignore[import-untyped]
from faust.transport.drivers import aiokafka as faust_aiokafka

__all__ = ["FAIR_CHUNK", "apply", "deliver_every_fetched_record"]

FAIR_CHUNK = 100
"""Records taken from one partition before the others get their turn."""


class _NoReadOffsets(dict[Any, Any]):
    """Faust's per-partition "read offset", always unknown to the fetch loop."""

    def __getitem__(self, key: Any) -> None:
        return None


def deliver_every_fetched_record(consumer: Any) -> None:
    """Stop Faust's fetch loop dropping records below the last offset it handed out.

    Faust's streams silently skip records fetched while flow is suspended or in an
    older consumer generation (around every rebalance), yet the fetch loop has
    already moved its read offset past them, so when they are fetched again it
    drops them: the first records of a partition were lost after a restart or a
    rebalance (seen 2026-11-25), and a seek back to them was undone by the rest of
    the fetched batch. With this, every fetched record reaches the agent, and the
    agent's :class:`~stream_processors.offsets.OffsetBook` alone decides which one
    is next: earlier ones are skipped; for later ones the agent reads the missing
    records itself (:mod:`stream_processors.positions`).
    """
    consumer._read_offset = _NoReadOffsets()


async def _highwaters(self: Any, partitions: list[Any]) -> Mapping[Any, int]:
    consumer = self._ensure_consumer()
    return dict(await consumer.end_offsets(partitions))


def _take_turns(fetched_records: Any) -> Any:
    """aiokafka's ``Fetcher.fetched_records``, taking turns between partitions.

    aiokafka hands out a partition's fetched records until that whole fetch is
    drained, and a drained partition goes to the back of the queue. In a backlog
    (~90 raw partitions, up to 1 MiB each per fetch) some partitions then got
    nothing for over a minute: the tick partitions (parked facts are decided on
    ticks) and the master topics, with tens of thousands of facts parked
    meanwhile (seen 2026-11-26: raw.erp.vehicles committed at ~1,040 of ~3,300
    per partition, ticks at offset 5, 40,868 parked). Here at most
    :data:`FAIR_CHUNK` records come from one partition per call, and a partition
    that still has records goes to the back. Order within a partition is kept.
    """

    async def fair(self: Any, partitions: Any, timeout: float = 0, max_records: Any = None) -> Any:
        chunk = FAIR_CHUNK if max_records is None else min(max_records, FAIR_CHUNK)
        drained = await fetched_records(self, partitions, timeout, chunk)
        for tp in drained:
            if tp in self._records:
                self._records.move_to_end(tp)
        return drained

    return fair


def apply() -> None:
    """Install the fixes (idempotent)."""
    thread = faust_aiokafka.AIOKafkaConsumerThread
    if getattr(thread, "_orion_fixed", False):
        return
    thread._highwaters = _highwaters  # type: ignore[method-assign]
    Fetcher.fetched_records = _take_turns(Fetcher.fetched_records)
    thread._orion_fixed = True  # type: ignore[attr-defined]
