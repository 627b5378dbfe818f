"""Object keys and the day runs a batch is cut into (pure functions, no I/O)."""

from __future__ import annotations

import datetime as dt

from sinks.silver.naming import ObjectName, event_day
from sinks.silver.writer import next_run


def at(day: int, hour: int = 12) -> dict[str, object]:
    return {"event_time": dt.datetime(2025, 3, day, hour, tzinfo=dt.UTC)}


def test_key_is_entity_event_day_topic_partition_and_padded_offset() -> None:
    name = ObjectName("silver/", "erp.sales", dt.date(2025, 3, 1), "p.clean.erp.sales", 4, 1234)
    assert name.key == (
        "silver/erp.sales/dt=2025-03-01/p.clean.erp.sales+4+00000000000000001234.parquet"
    )


def test_event_day_is_the_utc_date() -> None:
    sast = dt.timezone(dt.timedelta(hours=2))
    assert event_day(dt.datetime(2025, 3, 2, 1, 30, tzinfo=sast)) == dt.date(2025, 3, 1)


def test_runs_split_at_every_day_change_and_rowless_records_never_split() -> None:
    rows = [None, at(1), at(1, 23), None, at(2, 0), at(1), None, None]
    assert next_run(rows, 0) == (4, dt.date(2025, 3, 1))  # leading None joins the run
    assert next_run(rows, 4) == (5, dt.date(2025, 3, 2))
    assert next_run(rows, 5) == (8, dt.date(2025, 3, 1))  # trailing Nones join, a late event alone
    assert next_run([None, None], 0) == (2, None)


def test_runs_from_any_start_reproduce_the_same_boundaries() -> None:
    """Whatever offset a replay resumes at, it cuts where the first run cut after it."""
    rows = [at(1 + (i // 7) % 3) if i % 5 else None for i in range(40)]
    cuts = []
    i = 0
    while i < len(rows):
        i, _ = next_run(rows, i)
        cuts.append(i)
    for start in cuts[:-1]:
        j = start
        rest = []
        while j < len(rows):
            j, _ = next_run(rows, j)
            rest.append(j)
        assert rest == [c for c in cuts if c > start]
