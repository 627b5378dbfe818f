"""Deduplication state of one partition: which events were seen, expiring by record time.

Who calls it: :class:`~stream_processors.processor.Processor` per record (lookup,
remember), the engine at the end of a transaction (:meth:`DedupTable.changes`
into the changelog) and after it (:meth:`commit`, or :meth:`abort`).

A key is the entity, the record's message key and a hash of everything but
``event_id`` and ``produced_at``: an exact re-send and a business duplicate
both match it, a re-read of the same offset does not. Its value says when
(record time), where (offset), which event id, and whether that event was
rejected. Keys expire ``window`` of record time behind the newest record of
their entity in the partition (one clock per entity: topics of a partition
are read at different paces). Expiry writes tombstones to the changelog, so
a restored partition does not bring expired keys back.

Why record time (the raw record's Kafka timestamp: when its source handed
it to Kafka), not event time: a duplicate is a second *arrival*, and how
old the event it repeats is says nothing about how soon after it arrives.
With event time, a re-send of an opening stock snapshot (event time the
1st of the month) arriving seconds after the original passed as new once
the entity's newest event was a week later (found by the chaos drill,
2026-12-02); one reject with an event time in year 9999 would have emptied
its entity's table; a file dropped twice, or a window replayed from the
archive, was deduplicated only when its events were younger than the window.
A source whose clock runs ahead moves the clock by an hour at most: Kafka 4
refuses records stamped further ahead (``log.message.timestamp.after.max.ms``).

Changes of the running transaction sit in :attr:`pending` (read before the
store, so a duplicate within one batch is found) and reach RocksDB only in
:meth:`commit`, after the transaction committed; :meth:`abort` drops them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from stream_processors.state.store import RocksStore

__all__ = ["DedupTable", "Seen", "dedup_key"]

_VALUE = struct.Struct(">qq?")
_MS = struct.Struct(">Q")
_ROW = b"d"
_INDEX = b"x"
_MS_BIAS = 1 << 63  # times before 1970 still sort in order


@dataclass(frozen=True, slots=True)
class Seen:
    at_ms: int
    """Record time (ms): the Kafka timestamp of the raw record first seen."""
    offset: int
    rejected: bool
    event_id: str


def dedup_key(stem: str, key: bytes | None, content: str) -> bytes:
    return b"%s|%s|%s" % (stem.encode(), key or b"", content.encode())


def _stem_of(ck: bytes) -> str:
    return ck[: ck.index(b"|")].decode()


def encode_seen(seen: Seen) -> bytes:
    return _VALUE.pack(seen.at_ms, seen.offset, seen.rejected) + seen.event_id.encode()


def decode_seen(value: bytes) -> Seen:
    ms, offset, rejected = _VALUE.unpack_from(value)
    return Seen(ms, offset, rejected, value[_VALUE.size :].decode())


def _index_key(stem: str, at_ms: int, ck: bytes) -> bytes:
    return _INDEX + stem.encode() + b"\x00" + _MS.pack(at_ms + _MS_BIAS) + ck


class DedupTable:
    """The dedup keys of one partition number (every entity of it)."""

    def __init__(self, store: RocksStore, window_ms: int) -> None:
        self._store = store
        self.window_ms = window_ms
        self.pending: dict[bytes, Seen | None] = {}
        self._stored_ms: dict[bytes, int | None] = {}
        """Record time of each looked-up key as the store has it (None: absent), so
        writing the batch needs no second read to find the expiry entry to replace."""
        self._watermark: dict[str, int] = {}
        self._pending_watermark: dict[str, int] = {}

    def lookup(self, ck: bytes) -> Seen | None:
        if ck in self.pending:
            return self.pending[ck]
        raw = self._store.get(_ROW + ck)
        seen = None if raw is None else decode_seen(raw)
        self._stored_ms[ck] = None if seen is None else seen.at_ms
        return seen

    def remember(self, stem: str, ck: bytes, seen: Seen) -> None:
        self.pending[ck] = seen
        self.saw(stem, seen.at_ms)

    def saw(self, stem: str, at_ms: int) -> None:
        """A record of ``stem`` with record time ``at_ms`` was read: the entity's clock."""
        if at_ms > self.watermark(stem):
            self._pending_watermark[stem] = at_ms

    def watermark(self, stem: str) -> int:
        return self._pending_watermark.get(stem, self._watermark.get(stem, -(1 << 62)))

    def expire(self) -> int:
        """Tombstone every committed key older than its entity's watermark - window."""
        gone = 0
        for stem in {*self._watermark, *self._pending_watermark}:
            horizon = self.watermark(stem) - self.window_ms
            head = _INDEX + stem.encode() + b"\x00"
            for ikey, _ in self._store.scan(head, head + _MS.pack(max(horizon + _MS_BIAS, 0))):
                ck = ikey[len(head) + _MS.size :]
                if ck not in self.pending:
                    self.pending[ck] = None
                    self._stored_ms[ck] = _MS.unpack_from(ikey, len(head))[0] - _MS_BIAS
                    gone += 1
        return gone

    def changes(self) -> list[tuple[bytes, bytes | None]]:
        """This transaction's changelog records: key, value (None: tombstone)."""
        return [(ck, None if s is None else encode_seen(s)) for ck, s in self.pending.items()]

    def commit(self) -> None:
        """The transaction committed: write its changes to the store."""
        self._write(self.pending, self._stored_ms)
        self.pending = {}
        self._stored_ms = {}
        self._watermark.update(self._pending_watermark)
        self._pending_watermark.clear()

    def abort(self) -> None:
        self.pending = {}
        self._stored_ms = {}
        self._pending_watermark.clear()

    def restore(self, rows: list[tuple[bytes, bytes | None]]) -> None:
        """Apply changelog records (in changelog order) read back after an assignment."""
        latest: dict[bytes, Seen | None] = {}
        for ck, value in rows:
            latest[ck] = None if value is None else decode_seen(value)
        for ck, seen in latest.items():
            if seen is not None:
                stem = _stem_of(ck)
                if seen.at_ms > self._watermark.get(stem, -(1 << 62)):
                    self._watermark[stem] = seen.at_ms
        self._write(latest)

    def close(self) -> None:
        """The partition left this worker: close and delete its store."""
        self._store.close()

    def _write(
        self, changes: dict[bytes, Seen | None], stored_ms: dict[bytes, int | None] | None = None
    ) -> None:
        puts: dict[bytes, bytes | None] = {}
        known = stored_ms or {}
        for ck, seen in changes.items():
            if ck in known:
                old_ms = known[ck]
            else:
                old = self._store.get(_ROW + ck)
                old_ms = None if old is None else decode_seen(old).at_ms
            if old_ms is not None:
                puts[_index_key(_stem_of(ck), old_ms, ck)] = None
            if seen is None:
                puts[_ROW + ck] = None
            else:
                puts[_ROW + ck] = encode_seen(seen)
                puts[_index_key(_stem_of(ck), seen.at_ms, ck)] = b""
        self._store.write(puts)
