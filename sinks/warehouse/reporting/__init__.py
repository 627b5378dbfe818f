"""The finance report as one self-contained HTML page with SVG charts.

``collect`` reads the questions (:mod:`sinks.warehouse.report`) and the
data-quality summary (:mod:`.quality`); ``html.render`` writes the page;
``charts`` says which question gets which chart from ``svg``.
"""

from __future__ import annotations

from psycopg2.extensions import connection as Connection

from sinks.warehouse.reporting.collect import collect
from sinks.warehouse.reporting.html import render
from sinks.warehouse.reporting.quality import DeadLetters

__all__ = ["DeadLetters", "html_report"]

TITLE = "Orion Motors \u00b7 Finance report"


def html_report(
    conn: Connection, *, limit: int, dead_letters: DeadLetters, source: str, title: str = TITLE
) -> str:
    """The whole page for the database behind ``conn``."""
    return render(collect(conn, limit=limit, dead_letters=dead_letters, source=source, title=title))
