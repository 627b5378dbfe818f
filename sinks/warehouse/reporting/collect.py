"""Read every question and the data-quality summary for the HTML page.

Charted questions come first, in the order of :data:`charts.CHARTS`, each
with as many rows as its chart shows; the rest follow by name with
``limit`` rows, tables only.
"""

from __future__ import annotations

import datetime as dt

from psycopg2.extensions import connection as Connection

from sinks.warehouse.report import answer, questions
from sinks.warehouse.reporting.charts import CHARTS
from sinks.warehouse.reporting.html import Page, Section
from sinks.warehouse.reporting.quality import DeadLetters, read_quality

__all__ = ["collect"]


def collect(
    conn: Connection, *, limit: int, dead_letters: DeadLetters, source: str, title: str
) -> Page:
    """A :class:`Page` of the database behind ``conn`` (whose schema the caller checked)."""
    known = {q.name: q for q in questions(conn)}
    sections = []
    for name, chart in CHARTS.items():
        if name in known:
            a = answer(conn, known.pop(name), chart.limit)
            sections.append(Section(a, chart.draw(a), chart.limit, chart.note))
    for q in known.values():
        sections.append(Section(answer(conn, q, limit), None, limit))
    return Page(
        title=title,
        source=source,
        generated_at=dt.datetime.now(dt.UTC),
        quality=read_quality(conn, dead_letters),
        sections=sections,
    )
