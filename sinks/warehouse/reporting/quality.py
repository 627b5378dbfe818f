"""The run's data-quality summary: what the warehouse and Kafka can tell today.

Three sources, each optional, so the section shows what exists:

- the loader's own bookkeeping in ``metadata`` (batches and records loaded,
  the last commit, records it could not load, per topic and reason);
- inferred members still standing in ``warehouse.dim_*`` (facts whose master
  record never arrived);
- dead letters per topic and reason, counted from the ``dlq.*`` topics by the
  caller (this package does not talk to Kafka) and passed in, or ``None``
  with a note saying why they are missing.

The hook for the data-quality scorecard: every view in schema ``dq`` is read
as a question (its comment is its title) and shown in this section, so the
scorecard lands as a migration and needs no change here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from psycopg2.extensions import connection as Connection

from sinks.warehouse.report import Answer, answer, questions

__all__ = ["DeadLetters", "Quality", "read_quality"]

SCORECARD_SCHEMA = "dq"


@dataclass(frozen=True)
class DeadLetters:
    """Dead-lettered records per (topic, reason), or why they could not be counted."""

    counts: Mapping[tuple[str, str], int] = field(default_factory=dict)
    unavailable: str | None = None

    def by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (_topic, reason), n in self.counts.items():
            out[reason] = out.get(reason, 0) + n
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Quality:
    batches: int
    records_loaded: int
    rows_written: int
    first_load: dt.datetime | None
    last_load: dt.datetime | None
    rejected: list[tuple[str, str, int]]  # topic, reason, records
    inferred: list[tuple[str, int, int]]  # dimension, inferred current members, current members
    dead_letters: DeadLetters
    scorecard: list[Answer]

    @property
    def rejected_total(self) -> int:
        return sum(n for _t, _r, n in self.rejected)

    @property
    def inferred_total(self) -> int:
        return sum(n for _d, n, _all in self.inferred)


def read_quality(conn: Connection, dead_letters: DeadLetters) -> Quality:
    """Read the warehouse's side of the summary in one read-only transaction."""
    with conn.cursor() as cur:
        cur.execute("SET TRANSACTION READ ONLY")
        cur.execute(
            "SELECT count(*), coalesce(sum(records), 0), coalesce(sum(rows_written), 0), "
            "min(committed_at), max(committed_at) FROM metadata.load_batches"
        )
        row = cur.fetchone()
        assert row is not None
        batches, records, rows, first, last = row
        cur.execute(
            "SELECT topic, reason, count(*) FROM metadata.rejected_records "
            "GROUP BY topic, reason ORDER BY 3 DESC, 1, 2"
        )
        rejected = [(str(t), str(r), int(n)) for t, r, n in cur.fetchall()]
        # A view (0010_roles.sql): the analyst may read no dimension table itself.
        cur.execute(
            "SELECT dimension, inferred, total FROM metadata.inferred_members ORDER BY dimension"
        )
        inferred = [(str(d), int(i), int(t)) for d, i, t in cur.fetchall()]
    conn.rollback()
    scorecard = [answer(conn, q) for q in questions(conn, SCORECARD_SCHEMA)]
    return Quality(
        batches=int(batches),
        records_loaded=int(records),
        rows_written=int(rows),
        first_load=first,
        last_load=last,
        rejected=rejected,
        inferred=inferred,
        dead_letters=dead_letters,
        scorecard=scorecard,
    )
