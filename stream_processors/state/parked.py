"""Facts of one partition that wait for their master data, in memory with a changelog.

Who calls it: :class:`~stream_processors.processor.Processor` parks and
releases; the engine writes :meth:`ParkedTable.changes` into the
transaction and then calls :meth:`commit` or :meth:`abort`.

Parked facts are few (what a backlog reads ahead of its masters), so they
live in memory, indexed per entity in offset order and per (entity, key):
a decision pass walks each entity's oldest first and stops at the first
that is not ready, and a later fact of a key that waits waits too (per-key
order survives parking). Every park and release is journalled, so an
aborted transaction is undone exactly; the changelog record (bytes and all)
is what a restored partition is rebuilt from.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["Judged", "Parked", "ParkedTable"]

_ROW = struct.Struct(">qdi?")  # Kafka timestamp ms (-1: none), parked at (s), key length, replay


class Judged(NamedTuple):
    """What a parked fact's release needs of its verdict."""

    clean: bytes
    refs: list[tuple[str, str, str]]
    repairs: list[str]
    event_id: str
    content: str


@dataclass(slots=True)
class Parked:
    """A valid fact whose references are not all known yet."""

    stem: str
    offset: int
    key: bytes | None
    ts_ms: int | None
    value: bytes
    parked_at: float
    """Wall clock (s) when it was parked: how long facts wait is a metric."""
    replayed: bool = False
    park_epoch: int = 0
    """The reference tracker's poll in progress when it was parked (or restored)."""
    barrier: dict[tuple[str, int], int] | None = None
    barrier_epoch: int = 0
    judged: Judged | None = None
    """The verdict from when it was parked, in memory only, so a release does not decode
    and judge the record again (that was a fifth of a backlog's time); None after a
    restore."""

    @property
    def table_key(self) -> bytes:
        return b"%s|%d" % (self.stem.encode(), self.offset)

    def encode(self) -> bytes:
        key = self.key or b""
        head = _ROW.pack(
            -1 if self.ts_ms is None else self.ts_ms,
            self.parked_at,
            -1 if self.key is None else len(key),
            self.replayed,
        )
        return head + key + self.value

    @classmethod
    def decode(cls, table_key: bytes, row: bytes) -> Parked:
        stem, _, offset = table_key.rpartition(b"|")
        ts, parked_at, klen, replayed = _ROW.unpack_from(row)
        body = row[_ROW.size :]
        key = None if klen < 0 else body[:klen]
        return cls(stem.decode(), int(offset), key, None if ts < 0 else ts, body[max(klen, 0) :],
                   parked_at, replayed)  # fmt: skip


@dataclass(slots=True)
class ParkedTable:
    by_stem: dict[str, dict[int, Parked]] = field(default_factory=dict)
    by_key: dict[tuple[str, bytes | None], deque[int]] = field(default_factory=dict)
    pending: dict[bytes, bytes | None] = field(default_factory=dict)
    waiting_on: dict[tuple[str, str], list[Parked]] = field(default_factory=dict)
    """Parked facts by a referent (stem, id) they lacked when parked. A loose index:
    entries of facts released or undone meanwhile are skipped by :meth:`is_parked`."""
    _journal: list[tuple[bool, Parked]] = field(default_factory=list)
    count: int = 0

    def waiting(self, stem: str, key: bytes | None) -> bool:
        """True when an earlier fact of this (entity, key) waits: keep per-key order."""
        return (stem, key) in self.by_key

    def first_of_key(self, parked: Parked) -> bool:
        return self.by_key[(parked.stem, parked.key)][0] == parked.offset

    def lowest(self, stem: str) -> int | None:
        """The lowest parked offset of ``stem`` (facts are parked in offset order)."""
        records = self.by_stem.get(stem)
        return next(iter(records)) if records else None

    def is_parked(self, parked: Parked) -> bool:
        return self.by_stem.get(parked.stem, {}).get(parked.offset) is parked

    def next_of_key(self, parked: Parked) -> Parked | None:
        """The fact of the same key parked right after ``parked`` (which is first), if any."""
        keys = self.by_key.get((parked.stem, parked.key))
        if not keys or len(keys) < 2:
            return None
        return self.by_stem[parked.stem].get(keys[1])

    def park(self, parked: Parked, missing: Sequence[tuple[str, str]] = ()) -> None:
        """Park a fact; ``missing``: the (stem, id) referents it waits for."""
        for ref in missing:
            self.waiting_on.setdefault(ref, []).append(parked)
        self._add(parked)
        self._journal.append((True, parked))
        self.pending[parked.table_key] = parked.encode()

    def release(self, parked: Parked) -> None:
        self._remove(parked)
        self._journal.append((False, parked))
        self.pending[parked.table_key] = None

    def changes(self) -> list[tuple[bytes, bytes | None]]:
        return list(self.pending.items())

    def commit(self) -> None:
        self.pending = {}
        self._journal.clear()

    def abort(self) -> None:
        """Undo this transaction's parks and releases, newest first."""
        for added, parked in reversed(self._journal):
            if added:
                self._remove(parked)
            else:
                self._add(parked, restoring=True)
        self._journal.clear()
        self.pending = {}

    def restore(self, rows: list[tuple[bytes, bytes | None]], epoch: int) -> None:
        """Build an empty table from changelog records (in changelog order)."""
        assert not self.count, "restore into an empty table only"
        latest: dict[bytes, bytes | None] = {}
        for k, v in rows:
            latest[k] = v
        facts = [Parked.decode(k, v) for k, v in latest.items() if v is not None]
        for parked in sorted(facts, key=lambda f: f.offset):
            parked.park_epoch = epoch
            self._add(parked)

    def _add(self, parked: Parked, *, restoring: bool = False) -> None:
        per_stem = self.by_stem.setdefault(parked.stem, {})
        per_stem[parked.offset] = parked
        keys = self.by_key.setdefault((parked.stem, parked.key), deque())
        if restoring:  # undoing a release: back into offset order
            keys.append(parked.offset)
            self.by_key[(parked.stem, parked.key)] = deque(sorted(keys))
            self.by_stem[parked.stem] = dict(sorted(per_stem.items()))
        else:
            keys.append(parked.offset)
        self.count += 1

    def _remove(self, parked: Parked) -> None:
        del self.by_stem[parked.stem][parked.offset]
        k = (parked.stem, parked.key)
        keys = self.by_key[k]
        keys.remove(parked.offset)
        if not keys:
            del self.by_key[k]
        self.count -= 1
