"""Fair delivery between partitions (pure logic over aiokafka's own drain rule)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from stream_processors.faust_fixes import FAIR_CHUNK, _take_turns


async def _aiokafka_rule(self: Any, partitions: Any, timeout: float, max_records: int) -> Any:
    """aiokafka's rule: drain partitions front to back; a drained one leaves the queue."""
    out: dict[str, list[int]] = {}
    for tp in list(self._records):
        take = self._records[tp][:max_records]
        self._records[tp] = self._records[tp][len(take) :]
        if not self._records[tp]:
            del self._records[tp]
        out[tp] = take
        max_records -= len(take)
        if max_records == 0:
            break
    return out


def _run(coro: Any) -> Any:
    """Run on a private loop: asyncio.run() would unset the thread's loop for later tests."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


class _Fetched:
    def __init__(self) -> None:
        self._records = OrderedDict(
            (("raw.telemetry-0", list(range(1000))), ("raw.vehicles-0", list(range(300))),
             ("ticks-0", [0, 1]))
        )  # fmt: skip


def test_every_partition_gets_a_turn_before_a_big_one_drains() -> None:
    fetched, fair = _Fetched(), _take_turns(_aiokafka_rule)
    calls = [_run(fair(fetched, None, 0, 2000)) for _ in range(14)]
    assert [next(iter(c)) for c in calls[:3]] == ["raw.telemetry-0", "raw.vehicles-0", "ticks-0"]
    for tp, n in (("raw.telemetry-0", 1000), ("raw.vehicles-0", 300), ("ticks-0", 2)):
        assert [r for c in calls for r in c.get(tp, [])] == list(range(n))  # each once, in order


def test_without_turns_the_big_partition_starves_the_others() -> None:
    fetched = _Fetched()
    firsts = [next(iter(_run(_aiokafka_rule(fetched, None, 0, FAIR_CHUNK))))
              for _ in range(3)]  # fmt: skip
    assert firsts == ["raw.telemetry-0"] * 3
