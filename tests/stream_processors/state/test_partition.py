"""PartitionState: when a release of a parkable referent becomes visible (released_epoch)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stream_processors.state.dedup import DedupTable, Seen
from stream_processors.state.parked import Parked
from stream_processors.state.partition import PENDING, PartitionState
from stream_processors.state.store import RocksStore


@pytest.fixture
def state(tmp_path: Path) -> Iterator[PartitionState]:
    s = PartitionState(0, DedupTable(RocksStore(tmp_path / "p0", memory_mib=4), window_ms=1000))
    yield s
    s.dedup.close()


def test_released_is_pending_in_the_batch_and_the_commit_epoch_after(
    state: PartitionState,
) -> None:
    state.released("sales")
    assert state.released_epoch == {"sales": PENDING}
    state.commit(7)
    assert state.released_epoch == {"sales": 7}
    state.commit(8)  # a batch without releases changes nothing
    assert state.released_epoch == {"sales": 7}


def test_abort_restores_the_previous_epoch(state: PartitionState) -> None:
    state.released("sales")
    state.commit(3)
    state.released("sales")
    state.released("sales")
    state.released("leases")
    assert state.released_epoch["sales"] == PENDING
    state.abort()
    assert state.released_epoch["sales"] == 3
    assert state.released_epoch.get("leases", -1) == -1  # never released: as if absent
    state.commit(9)
    assert state.released_epoch["sales"] == 3


def test_commit_and_abort_reach_dedup_and_parked(state: PartitionState) -> None:
    fact = Parked("sales", 1, b"k", None, b"v", parked_at=0.0)
    state.parked.park(fact)
    state.dedup.remember("sales", b"sales|k|h", Seen(100, 1, False, "e1"))
    state.abort()
    assert state.parked.count == 0
    assert state.dedup.lookup(b"sales|k|h") is None
    state.parked.park(fact)
    state.dedup.remember("sales", b"sales|k|h", Seen(100, 1, False, "e1"))
    state.commit(1)
    state.abort()  # nothing pending: the committed batch stays
    assert state.parked.lowest("sales") == 1
    assert state.dedup.lookup(b"sales|k|h") == Seen(100, 1, False, "e1")
