"""PartitionState's dedup expiry: one event-time clock per entity (pure logic)."""

from __future__ import annotations

from stream_processors.state import PartitionState, barrier_times

DAY = 86_400_000


def test_a_fast_entity_does_not_expire_a_slow_one() -> None:
    state = PartitionState()
    state.remember("erp.inventory", 100 * DAY, "inv-1", 0, "e")
    state.remember("iot.telemetry", 100 * DAY, "tel-1", 0, "e")
    state.remember("iot.telemetry", 200 * DAY, "tel-2", 0, "e")  # telemetry read far ahead
    assert state.expired(7 * DAY) == ["tel-1"]
    state.remember("erp.inventory", 108 * DAY, "inv-2", 0, "e")
    assert state.expired(7 * DAY) == ["inv-1"]
    assert state.expired(7 * DAY) == []
    assert list(state.seen) == ["tel-2", "inv-2"]  # expired keys leave the lookup index too


def test_keys_out_of_event_time_order_expire_late_never_early() -> None:
    state = PartitionState()
    for t, k in ((50, "b"), (10, "a"), (90, "c")):
        state.remember("erp.sales", t * DAY, k, t, f"e-{k}")
    assert state.expired(45 * DAY) == []  # "a" waits behind "b": late, bounded
    assert sorted(state.expired(30 * DAY)) == ["a", "b"]
    assert state.expired(30 * DAY) == []
    assert state.seen == {"c": (90, "e-c")}


def test_barrier_times_never_precede_a_fact_and_stay_few() -> None:
    stamps: list[float | None] = [100.0 + i * 0.37 for i in range(5000)] + [None]
    ends = barrier_times(stamps, slices=50)
    assert ends[-1] is None  # no timestamp: the caller waits for the high-water mark
    known = [(t, e) for t, e in zip(stamps[:-1], ends[:-1], strict=True)]
    assert all(t is not None and e is not None and t < e for t, e in known)
    assert len(set(ends)) <= 52
    finite = [e for e in ends if e is not None]
    assert finite == sorted(finite)  # later facts never get earlier barriers


def test_barrier_times_of_a_short_span_use_one_second_slices() -> None:
    assert barrier_times([10.0, 10.2, 11.5], slices=50) == [11.0, 11.0, 12.0]
