"""Work-arounds for faust-streaming defects that break exactly-once table recovery.

Applied once by :class:`stream_processors.app.Processor` before its app is built.

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

from faust.transport.drivers import aiokafka as faust_aiokafka

__all__ = ["apply"]


async def _highwaters(self: Any, partitions: list[Any]) -> Mapping[Any, int]:
    consumer = self._ensure_consumer()
    return dict(await consumer.end_offsets(partitions))


def apply() -> None:
    """Install the fixes (idempotent)."""
    thread = faust_aiokafka.AIOKafkaConsumerThread
    if getattr(thread, "_orion_fixed", False):
        return
    thread._highwaters = _highwaters  # type: ignore[method-assign]
    thread._orion_fixed = True  # type: ignore[attr-defined]
