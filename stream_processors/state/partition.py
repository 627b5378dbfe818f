"""Everything one worker keeps about one partition number it owns.

Raw, clean, dlq and changelog topics share one partition count, and the
range assignor gives a worker partition p of every raw topic at once, so a
partition number is the unit of state: its dedup keys (RocksDB), its parked
facts (memory) and, for referents that can themselves be parked (sales),
when one was last released. Two changelog topics back it, written in the
same transaction as the outputs (see :mod:`stream_processors.engine`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stream_processors.state.dedup import DedupTable
from stream_processors.state.parked import ParkedTable

__all__ = ["PENDING", "PartitionState"]

PENDING = 1 << 62
"""``released_epoch`` of a release in the running transaction: not visible to anyone yet."""


@dataclass
class PartitionState:
    partition: int
    dedup: DedupTable
    parked: ParkedTable = field(default_factory=ParkedTable)
    released_epoch: dict[str, int] = field(default_factory=dict)
    """Per parkable referent: the tracker poll in progress when a release of it committed.

    A fact referring to it is decided only on a status of a later poll, which
    began after that commit and so sees the released record's clean output."""
    _released_before: dict[str, int] = field(default_factory=dict)

    def released(self, stem: str) -> None:
        if stem not in self._released_before:
            self._released_before[stem] = self.released_epoch.get(stem, -1)
        self.released_epoch[stem] = PENDING

    def commit(self, epoch: int) -> None:
        """The transaction committed while the tracker's poll ``epoch`` was in progress."""
        self.dedup.commit()
        self.parked.commit()
        for stem in self._released_before:
            self.released_epoch[stem] = epoch
        self._released_before.clear()

    def abort(self) -> None:
        self.dedup.abort()
        self.parked.abort()
        for stem, before in self._released_before.items():
            self.released_epoch[stem] = before
        self._released_before.clear()
