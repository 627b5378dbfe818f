"""The parked-facts table: encoding, per-entity and per-key order, exact abort, restore."""

from __future__ import annotations

import pytest

from stream_processors.state.parked import Parked, ParkedTable


def fact(offset: int, key: bytes | None = b"a", stem: str = "sales") -> Parked:
    return Parked(stem, offset, key, 1_000 + offset, b"v%d" % offset, parked_at=12.5)


def order(table: ParkedTable, stem: str = "sales", key: bytes | None = b"a") -> list[int]:
    return list(table.by_key[(stem, key)])


@pytest.mark.parametrize("key", [None, b"", b"k|1"])
@pytest.mark.parametrize("ts_ms", [None, 0, 1_700_000_000_123])
@pytest.mark.parametrize("replayed", [False, True])
def test_encode_decode_round_trip(key: bytes | None, ts_ms: int | None, replayed: bool) -> None:
    parked = Parked("sales", 42, key, ts_ms, b"\x00|body|\xff", 1_700_000_000.25, replayed)
    assert parked.table_key == b"sales|42"
    assert Parked.decode(parked.table_key, parked.encode()) == parked


def test_park_and_release_keep_per_key_order() -> None:
    table = ParkedTable()
    f1, f2, f3 = fact(1), fact(2, key=b"b"), fact(3)
    for f in (f1, f2, f3):
        table.park(f)
    assert table.waiting("sales", b"a") and table.waiting("sales", b"b")
    assert not table.waiting("sales", b"c") and not table.waiting("leads", b"a")
    assert table.first_of_key(f1) and not table.first_of_key(f3)
    assert table.lowest("sales") == 1 and table.lowest("leads") is None
    table.release(f1)
    assert table.first_of_key(f3)
    assert table.lowest("sales") == 2
    table.release(f2)
    assert not table.waiting("sales", b"b")
    table.release(f3)
    assert table.lowest("sales") is None
    assert table.count == 0


def test_abort_restores_offset_order_per_entity_and_per_key() -> None:
    table = ParkedTable()
    f1, f2, f3, f4 = fact(1), fact(2, key=b"b"), fact(3), fact(4)
    for f in (f1, f2, f3):
        table.park(f)
    table.commit()
    table.release(f3)
    table.release(f1)
    table.park(f4)
    table.release(f2)
    table.abort()
    assert list(table.by_stem["sales"]) == [1, 2, 3]
    assert order(table) == [1, 3]
    assert order(table, key=b"b") == [2]
    assert table.first_of_key(f1) and table.lowest("sales") == 1
    assert table.count == 3
    assert table.changes() == []


def test_abort_of_a_release_and_a_park_of_one_key() -> None:
    table = ParkedTable()
    f1, f2, f3, f4 = fact(1), fact(2), fact(3), fact(4)
    for f in (f1, f2, f3):
        table.park(f)
    table.commit()
    table.release(f1)
    table.park(f4)
    table.abort()
    assert order(table) == [1, 2, 3]
    assert table.first_of_key(f1)
    assert not table.first_of_key(f2)


def test_abort_of_a_fact_parked_and_released_in_one_batch() -> None:
    table = ParkedTable()
    f1, f2 = fact(1), fact(2)
    table.park(f1)
    table.commit()
    table.park(f2)
    table.release(f2)
    table.release(f1)
    table.abort()
    assert list(table.by_stem["sales"]) == [1]
    assert order(table) == [1]
    assert table.count == 1


def test_changes_of_a_fact_parked_and_released_in_one_batch_is_a_tombstone() -> None:
    table = ParkedTable()
    table.park(fact(1))
    table.park(fact(2))
    table.release(fact(1))
    assert table.changes() == [(b"sales|1", None), (b"sales|2", fact(2).encode())]
    table.commit()
    assert table.changes() == []


def test_restore_applies_rows_in_changelog_order_and_sorts_by_offset() -> None:
    rows: list[tuple[bytes, bytes | None]] = [
        (f.table_key, f.encode()) for f in (fact(7), fact(5), fact(9, stem="leads"), fact(2))
    ]
    rows += [(b"sales|5", None), (b"sales|3", fact(3).encode()), (b"sales|3", None)]
    table = ParkedTable()
    table.restore(rows, epoch=4)
    assert list(table.by_stem["sales"]) == [2, 7]
    assert list(table.by_stem["leads"]) == [9]
    assert order(table) == [2, 7]
    assert table.count == 3
    assert table.by_stem["sales"][7].value == b"v7"
    assert {p.park_epoch for s in table.by_stem.values() for p in s.values()} == {4}


def test_restore_into_a_non_empty_table_is_refused() -> None:
    table = ParkedTable()
    table.park(fact(1))
    with pytest.raises(AssertionError, match="empty table"):
        table.restore([], epoch=0)
