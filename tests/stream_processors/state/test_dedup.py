"""The dedup table over a real RocksDB store: batches, commit and abort, expiry, restore."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stream_processors.state.dedup import DedupTable, Seen, decode_seen, dedup_key, encode_seen
from stream_processors.state.store import RocksStore

WINDOW = 1000


@pytest.fixture
def table(tmp_path: Path) -> Iterator[DedupTable]:
    t = DedupTable(RocksStore(tmp_path / "p0", memory_mib=4), window_ms=WINDOW)
    yield t
    t.close()


def seen(ms: int, offset: int = 0, event_id: str = "e1") -> Seen:
    return Seen(ms, offset, False, event_id)


def test_dedup_key_is_entity_key_and_content() -> None:
    assert dedup_key("sales", b"k1", "abc") == b"sales|k1|abc"
    assert dedup_key("sales", None, "abc") == b"sales||abc"


def test_lookup_finds_a_duplicate_within_one_batch(table: DedupTable) -> None:
    ck = dedup_key("sales", b"k1", "h")
    assert table.lookup(ck) is None
    table.remember("sales", ck, seen(100, offset=7))
    assert table.lookup(ck) == seen(100, offset=7)
    assert table.changes() == [(ck, encode_seen(seen(100, offset=7)))]


def test_abort_drops_pending_keys_and_pending_watermarks(table: DedupTable) -> None:
    old, new = dedup_key("sales", b"a", "h"), dedup_key("sales", b"b", "h")
    table.remember("sales", old, seen(0))
    table.commit()
    table.remember("sales", new, seen(5 * WINDOW))
    assert table.watermark("sales") == 5 * WINDOW
    table.abort()
    assert table.lookup(new) is None
    assert table.changes() == []
    assert table.watermark("sales") == 0
    assert table.expire() == 0  # the aborted watermark no longer pushes `old` out
    assert table.lookup(old) == seen(0)


def test_commit_writes_to_the_store(table: DedupTable) -> None:
    first, second = dedup_key("sales", b"a", "h"), dedup_key("sales", b"b", "h")
    table.remember("sales", first, seen(100, offset=1))
    table.commit()
    assert table.pending == {}
    assert table.changes() == []
    assert table.lookup(first) == seen(100, offset=1)
    table.remember("sales", second, seen(200, offset=2))
    table.commit()
    assert table.lookup(first) == seen(100, offset=1)
    assert table.lookup(second) == seen(200, offset=2)


def test_expiry_keeps_one_clock_per_entity(table: DedupTable) -> None:
    sale, lead = dedup_key("sales", b"k", "h"), dedup_key("leads", b"k", "h")
    table.remember("sales", sale, seen(0))
    table.remember("leads", lead, seen(0))
    table.commit()
    table.saw("leads", 10 * WINDOW)  # a fast entity racing ahead
    assert table.expire() == 1
    assert table.changes() == [(lead, None)]
    table.commit()
    assert table.lookup(lead) is None
    assert table.lookup(sale) == seen(0)


def test_expiry_tombstones_only_committed_keys_older_than_the_horizon(table: DedupTable) -> None:
    old, edge, young = (dedup_key("sales", b"k", c) for c in ("old", "edge", "young"))
    table.remember("sales", old, seen(99))
    table.remember("sales", edge, seen(100))
    table.remember("sales", young, seen(500))
    table.commit()
    uncommitted = dedup_key("sales", b"k", "uncommitted")
    table.remember("sales", uncommitted, seen(0))
    table.saw("sales", 100 + WINDOW)  # horizon: 100
    assert table.expire() == 1
    assert table.changes() == [(uncommitted, encode_seen(seen(0))), (old, None)]
    assert table.lookup(old) is None
    table.commit()
    assert table.lookup(old) is None
    assert table.lookup(edge) == seen(100)
    assert table.lookup(young) == seen(500)
    assert table.expire() == 1  # the key of the last batch, now committed
    assert table.changes() == [(uncommitted, None)]


def test_expiry_spares_a_committed_key_remembered_again_in_the_batch(table: DedupTable) -> None:
    ck = dedup_key("sales", b"k", "h")
    table.remember("sales", ck, seen(0, offset=1))
    table.commit()
    table.remember("sales", ck, seen(5 * WINDOW, offset=2))  # e.g. a rejected event judged again
    assert table.expire() == 0
    table.commit()
    assert table.lookup(ck) == seen(5 * WINDOW, offset=2)
    assert table.expire() == 0  # its old index entry went with the update


def test_out_of_order_record_times_expire_late_never_early(table: DedupTable) -> None:
    newest, late = dedup_key("sales", b"k", "newest"), dedup_key("sales", b"k", "late")
    table.remember("sales", newest, seen(5000))
    table.remember("sales", late, seen(4500))  # arrives after a newer event
    assert table.watermark("sales") == 5000
    table.commit()
    table.saw("sales", 4500 + WINDOW)
    assert table.expire() == 0  # 4500 is not older than the horizon 4500
    table.saw("sales", 4501 + WINDOW)
    assert table.expire() == 1
    assert table.changes() == [(late, None)]


def test_restore_applies_changelog_rows_and_rebuilds_the_watermark(table: DedupTable) -> None:
    gone, kept, other = (dedup_key("sales", k, "h") for k in (b"a", b"b", b"c"))
    lead = dedup_key("leads", b"a", "h")
    table.restore([
        (gone, encode_seen(seen(100))),
        (kept, encode_seen(seen(250))),
        (gone, None),
        (lead, encode_seen(seen(50))),
        (kept, encode_seen(seen(300, offset=9))),
        (other, encode_seen(seen(200))),
    ])  # fmt: skip
    assert table.lookup(gone) is None
    assert table.lookup(kept) == seen(300, offset=9)
    assert table.watermark("sales") == 300
    assert table.watermark("leads") == 50
    assert table.changes() == []
    table.saw("sales", 250 + WINDOW)  # horizon 250: `other` goes, `kept` is indexed at 300
    assert table.expire() == 1
    assert table.changes() == [(other, None)]


def test_record_times_before_1970_sort_in_the_expiry_index(table: DedupTable) -> None:
    keys = {ms: dedup_key("sales", b"k", str(ms)) for ms in (-3000, -2000, -1000, 0)}
    for ms, ck in keys.items():
        table.remember("sales", ck, seen(ms))
    table.commit()  # watermark 0, horizon -1000
    assert table.expire() == 2
    assert table.changes() == [(keys[-3000], None), (keys[-2000], None)]
    table.commit()
    table.saw("sales", 1 + WINDOW)  # horizon 1
    assert table.expire() == 2
    assert table.changes() == [(keys[-1000], None), (keys[0], None)]


@pytest.mark.parametrize(
    "value",
    [Seen(1_700_000_000_000, 42, True, "évènement-ü✓"), Seen(-86_400_000, 0, False, "")],
)
def test_seen_round_trips_through_its_encoding(value: Seen) -> None:
    assert decode_seen(encode_seen(value)) == value
