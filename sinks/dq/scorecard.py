"""The read side of ``orion dq``: the scorecard functions of ``warehouse_sql/0007_dq.sql``.

The numbers are computed in SQL only (the report's ``dq`` views and the
Grafana panels read the same functions and tables); this module picks the
function for ``--by`` and returns its rows as they come.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from psycopg2.extensions import connection as Connection

__all__ = ["BY", "Scorecard", "read_scorecard"]

BY = ("system", "entity", "rule")


@dataclass(frozen=True)
class Scorecard:
    by: str
    since: dt.timedelta
    until: dt.datetime
    columns: list[str]
    rows: list[tuple[Any, ...]]


def read_scorecard(
    conn: Connection, by: str, since: dt.timedelta, until: dt.datetime | None = None
) -> Scorecard:
    """The scorecard over ``since`` before ``until`` (now), grouped ``by`` one of :data:`BY`."""
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, got {by!r}")
    with conn.cursor() as cur:
        cur.execute("SET TRANSACTION READ ONLY")
        cur.execute("SELECT coalesce(%s, now())", (until,))
        row = cur.fetchone()
        assert row is not None
        end: dt.datetime = row[0]
        if by == "rule":
            cur.execute("SELECT * FROM dq.scorecard_by_rule(%s, %s)", (since, end))
        else:
            cur.execute("SELECT * FROM dq.scorecard_by(%s, %s, %s)", (by, since, end))
        columns = [d[0] for d in cur.description or ()]
        rows = [tuple(r) for r in cur.fetchall()]
    conn.rollback()
    return Scorecard(by, since, end, columns, rows)
