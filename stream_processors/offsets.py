"""Which offsets this worker has handled and may commit: kept here, not by Faust.

Why: faust-streaming 0.15.3 works its commit offsets out from lists of acked
offsets, and loses them at a rebalance. Its consumer drops a revoked
partition's acked offsets *before* the app's revocation handler commits, so
records handled since the last commit are never committed, and their outputs
stay in a transaction that is still open. A partition this worker keeps is
then read again from the old committed offset into that same transaction:
records dead-lettered twice (seen 2026-11-25, two workers). Its gap rule can
also skip an offset that was never acked, or stop committing a partition for
good (seen: three partitions stuck at offset 37 after two SIGKILLs).

The agent handles one record at a time, so "the next offset to commit" is
just the offset after the last record handled. :class:`OffsetBook` keeps it
per partition and refuses records that are not the next one: a record from
before the committed offset (a fetch buffered before a rebalance seek) is
already reflected in committed outputs and is skipped. A record *past* the
next one is a gap: either records were deleted by retention before this
worker read them, or the record was fetched before a rebalance seek and
arrives ahead of the records the seek will read again (Faust would then drop
those as "already read": lost). The agent tells the two apart by the log
start offset and, for the second, seeks back to the next offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, Literal, TypeVar

__all__ = ["OffsetBook"]

TP = TypeVar("TP")


class OffsetBook(Generic[TP]):
    """Next offset to commit per partition, and what was committed last."""

    def __init__(self) -> None:
        self._next: dict[TP, int] = {}
        self._committed: dict[TP, int] = {}

    def check(self, offset: int, expected: int) -> Literal["handle", "skip", "gap"]:
        """What to do with the record at ``offset`` when ``expected`` is the next one."""
        if offset == expected:
            return "handle"
        return "skip" if offset < expected else "gap"

    def expected(self, tp: TP) -> int | None:
        """The offset after the last record handled since the assignment, if any."""
        return self._next.get(tp)

    def handled(self, tp: TP, offset: int) -> None:
        """The record at ``offset`` and all its outputs are in the open transaction."""
        self._next[tp] = offset + 1

    def due(self) -> dict[TP, int]:
        """Offsets that moved since the last commit (what the next commit must carry)."""
        return {tp: n for tp, n in self._next.items() if n > self._committed.get(tp, -1)}

    def committed(self, offsets: dict[TP, int]) -> None:
        self._committed.update(offsets)

    def forget(self, tps: Iterable[TP]) -> None:
        """Drop revoked partitions (after their last commit)."""
        for tp in tps:
            self._next.pop(tp, None)
            self._committed.pop(tp, None)
