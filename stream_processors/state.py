"""What one worker keeps in memory about one partition number it owns.

Everything here is a cache of the Faust tables (RocksDB with changelog
topics): it is rebuilt by scanning the tables the first time the worker
sees an event of a partition after an assignment, and dropped when the
partition is revoked, so a moved or restarted worker starts from the
changelog, never from stale memory.

Parked records are indexed per entity in offset order and per (entity,
key), so a tick decides them in order and in O(1) per record, even with
thousands waiting.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["Parked", "PartitionState", "barrier_times"]


@dataclass(slots=True)
class Parked:
    """A fact waiting for the reference decision (its bytes are in the parked table)."""

    stem: str
    offset: int
    key: str
    park_epoch: int
    ts: float | None = None
    """The raw record's Kafka timestamp (s): the decision waits for masters produced up to
    ``reference_grace`` after it."""
    barrier: dict[tuple[str, int], int] | None = None
    barrier_epoch: int = 0


def barrier_times(stamps: list[float | None], slices: int) -> list[float | None]:
    """For each timestamp, the end of its slice of the span (None stays None).

    The barrier of a group of parked facts is looked up once per slice, at its end:
    never before a fact's own time, and at most ``slices`` (+1) broker lookups
    however many facts wait.
    """
    known = [t for t in stamps if t is not None]
    if not known:
        return [None] * len(stamps)
    start = min(known)
    width = max((max(known) - start) / slices, 1.0)
    return [None if t is None else start + ((t - start) // width + 1) * width for t in stamps]


@dataclass(slots=True)
class PartitionState:
    by_stem: dict[str, dict[str, Parked]] = field(default_factory=dict)
    by_key: dict[tuple[str, str], deque[str]] = field(default_factory=dict)
    seen: dict[str, tuple[int, str]] = field(default_factory=dict)
    """The dedup table's keys of this partition -> (offset, event_id): lookups stay in memory.

    The table (RocksDB plus changelog) is what survives a restart; this copy is
    loaded from it after every assignment, like everything else here. A RocksDB
    read per record, through Faust's table layers, cost ~5% of the worker's time."""
    expiry: dict[str, deque[tuple[int, str]]] = field(default_factory=dict)
    """Per entity, its dedup keys as (event time ms, table key), oldest first."""
    watermark_ms: dict[str, int] = field(default_factory=dict)
    """Per entity, the newest event time seen: each raw topic has its own event-time clock.

    One clock per partition number (all entities together) expired keys too soon: the
    worker reads the topics of a partition at different paces, so telemetry read far
    ahead in event time expired inventory keys whose re-sends were still to come
    (seen 2026-11-25: an exact re-send published twice after a rebalance)."""
    resolved_at: dict[str, int] = field(default_factory=dict)
    """Per parkable entity, the tick offset that last decided one of its parked records."""
    ticks: int = 0
    count: int = 0

    def remember(
        self, stem: str, event_time_ms: int, table_key: str, offset: int, event_id: str
    ) -> None:
        """A new dedup key; it expires ``window`` after its entity's newest event time."""
        self.seen[table_key] = (offset, event_id)
        self.expiry.setdefault(stem, deque()).append((event_time_ms, table_key))
        self.saw(stem, event_time_ms)

    def saw(self, stem: str, event_time_ms: int) -> None:
        if event_time_ms > self.watermark_ms.get(stem, 0):
            self.watermark_ms[stem] = event_time_ms

    def expired(self, window_ms: int) -> list[str]:
        """Take out and return the dedup keys older than their entity's watermark - window.

        A key that arrived out of event-time order may wait behind a newer one: it
        expires late (bounded by that newer key's expiry), never early.
        """
        gone: list[str] = []
        for stem, queue in self.expiry.items():
            horizon = self.watermark_ms.get(stem, 0) - window_ms
            if len(queue) > 1 and queue[-1][0] < queue[0][0]:
                queue = self.expiry[stem] = deque(sorted(queue))
            while queue and queue[0][0] < horizon:
                key = queue.popleft()[1]
                self.seen.pop(key, None)
                gone.append(key)
        return gone

    def parked_key(self, stem: str, key: str) -> bool:
        """True when an earlier record of this (entity, key) waits: keep per-key order."""
        return (stem, key) in self.by_key

    def first_of_key(self, table_key: str, parked: Parked) -> bool:
        return self.by_key[(parked.stem, parked.key)][0] == table_key

    def add(self, table_key: str, parked: Parked) -> None:
        """Record a parked record; callers add in offset order per entity."""
        self.by_stem.setdefault(parked.stem, {})[table_key] = parked
        self.by_key.setdefault((parked.stem, parked.key), deque()).append(table_key)
        self.count += 1

    def remove(self, table_key: str, parked: Parked) -> None:
        del self.by_stem[parked.stem][table_key]
        k = (parked.stem, parked.key)
        keys = self.by_key[k]
        keys.remove(table_key)
        if not keys:
            del self.by_key[k]
        self.count -= 1

    def min_parked(self, stem: str) -> int | None:
        records = self.by_stem.get(stem)
        if not records:
            return None
        return next(iter(records.values())).offset
