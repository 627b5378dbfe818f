"""The deterministic split of one simulated stream over producer workers, and the merge back.

Who uses it: ``orion produce --workers N`` (:mod:`producers.workers` in the
simulating process, :mod:`producers.worker` in each worker). One process
simulates the whole stream, as with one worker, so a seed gives the same
events whatever N is; each event goes to the worker :func:`worker_of` its
(topic, key) names. So every event of one key is produced by one Kafka
producer, in stream order: per-key order in Kafka (what the processors rely
on: an original before its duplicates, a payment's status changes in turn)
is the same as with one worker. The workers format the ledger lines of their
events; :func:`interleave` puts them back in stream order, so the ledger is
byte-identical to the one-worker ledger.

Everything here is pure (no I/O, no processes), so the determinism is
tested without Kafka.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from producers.events import SimEvent
from producers.ledger import LedgerFields, LedgerRecord

__all__ = ["WireEvent", "interleave", "ledger_lines", "split", "wire_event", "worker_of"]

WireEvent = tuple[str, str, dict[str, Any] | None, bytes | None, LedgerFields]
"""An event as it travels to a worker: topic, key, value, poison bytes, ledger fields."""


def worker_of(topic: str, key: str, workers: int) -> int:
    """The worker that produces every event of (topic, key): stable across runs and machines.

    CRC-32, not ``hash()``: Python salts string hashes per process.
    """
    if workers == 1:
        return 0
    return zlib.crc32(f"{topic}\0{key}".encode()) % workers


def wire_event(ev: SimEvent) -> WireEvent:
    """A :class:`SimEvent` as plain values (cheap to pickle)."""
    return (ev.topic, ev.key, ev.value, ev.poison, ev.ledger.wire_fields())


def split(events: Iterable[SimEvent], workers: int) -> tuple[bytes, list[list[WireEvent]]]:
    """A chunk of the stream cut into one list per worker, and which worker got each event."""
    parts: list[list[WireEvent]] = [[] for _ in range(workers)]
    order = bytearray()
    for ev in events:
        w = worker_of(ev.topic, ev.key, workers)
        order.append(w)
        parts[w].append(wire_event(ev))
    return bytes(order), parts


def ledger_lines(part: Iterable[WireEvent]) -> list[str]:
    """The ledger lines of a worker's events, in the order it got them."""
    return [LedgerRecord.from_wire_fields(item[4]).to_json() for item in part]


def interleave(order: bytes, parts: Sequence[Sequence[str]]) -> list[str]:
    """Lines of the workers' parts back in stream order (``order`` from :func:`split`).

    Raises ValueError when a part has fewer or more lines than ``order`` gives it:
    a worker that lost or invented an event must not yield a plausible ledger.
    """
    iters = [iter(p) for p in parts]
    try:
        merged = [next(iters[w]) for w in order]
    except StopIteration:
        raise ValueError("a worker returned fewer ledger lines than it was sent events") from None
    if any(next(it, None) is not None for it in iters):
        raise ValueError("a worker returned more ledger lines than it was sent events")
    return merged
