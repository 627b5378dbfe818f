"""PartitionState's dedup expiry: one event-time clock per entity (pure logic)."""

from __future__ import annotations

from stream_processors.state import PartitionState

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
