"""The chaos drill, short: 3 minutes at 100 events/s with 3 faults, every check passing.

The faults: a random pipeline service SIGKILLed and restarted, Kafka restarted
(down 5 s) while everything runs, another service SIGKILLed. The checks are
the full drill's (:mod:`orionctl.drills.checks`), each read back from the real
services: topics against the ledger, the warehouse against a fault-free run of
the same seed, bronze and silver offsets exactly once, no alert about the run
firing, every service stopping cleanly. ``make chaos`` is the 15-minute drill.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orion.settings import OrionSettings
from orionctl.drills.chaos import ChaosPlan, run_chaos
from orionctl.stack.config import StackConfig


@pytest.mark.integration
@pytest.mark.serial  # restarts Kafka
def test_three_minutes_three_faults_and_everything_adds_up(
    settings: OrionSettings, stack: StackConfig, tmp_path: Path
) -> None:
    # 100 events/s, not more, for CI time: most of the test's time is the silver sink
    # catching up (it writes one object per event-day change; 505 s at 200/s).
    plan = ChaosPlan(minutes=3, rate=100, fault_every_s=45, stack_restarts=("kafka",),
                     alert_wait_s=180)  # fmt: skip
    assert plan.schedule() == ["kill", "kafka", "kill"]
    result = run_chaos(settings, plan, tmp_path, print)
    print("\n".join(result.faults + [c.line() for c in result.checks] + result.exits))
    assert len(result.faults) == 3, result.faults
    names = [c.name for c in result.checks]
    assert names == [
        "same seed, same ledger",
        "topics = ledger",
        "warehouse = fault-free run",
        "bronze = raw offsets",
        "silver = clean offsets",
        "no alert firing",
        "clean stop",
    ], names
    failed = [c for c in result.checks if not c.ok]
    assert not failed, "\n".join(c.line() for c in failed)


def test_the_schedule_spreads_the_stack_restarts_among_the_kills() -> None:
    plan = ChaosPlan(minutes=15, fault_every_s=60)
    faults = plan.schedule()
    assert len(faults) == 14
    assert [i for i, f in enumerate(faults) if f != "kill"] == [3, 7, 10]
    assert [f for f in faults if f != "kill"] == ["kafka", "postgres", "s3"]
    assert plan.events == 2_250_000
