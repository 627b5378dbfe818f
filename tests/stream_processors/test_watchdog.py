"""The stall watchdog: reports a long phase, and gives up on one that never ends."""

from __future__ import annotations

import time

from stream_processors.watchdog import IDLE, Phase, Watchdog


def _watchdog(phase: Phase, calls: list[tuple[str, float]]) -> Watchdog:
    return Watchdog(phase, limit_s=30, exit_after_s=300, on_stuck=lambda n, s: calls.append((n, s)))


def test_a_phase_shorter_than_the_limit_is_no_stall() -> None:
    phase, calls = Phase(), list[tuple[str, float]]()
    phase.at("committing")
    phase.since = time.monotonic() - 10
    assert _watchdog(phase, calls).check() == 0.0
    assert calls == []


def test_a_long_phase_is_a_stall_but_not_yet_stuck() -> None:
    phase, calls = Phase(), list[tuple[str, float]]()
    phase.at("committing")
    phase.since = time.monotonic() - 40
    assert 39 < _watchdog(phase, calls).check() < 60
    assert calls == []


def test_a_stall_past_the_exit_limit_calls_on_stuck_with_the_phase() -> None:
    phase, calls = Phase(), list[tuple[str, float]]()
    phase.at("restoring partition 2")
    phase.since = time.monotonic() - 301
    _watchdog(phase, calls).check()
    assert [name for name, _ in calls] == ["restoring partition 2"]
    assert calls[0][1] > 300


def test_waiting_for_records_is_never_a_stall() -> None:
    phase, calls = Phase(), list[tuple[str, float]]()
    phase.at(IDLE)
    phase.since = time.monotonic() - 10_000
    assert _watchdog(phase, calls).check() == 0.0
    assert calls == []
