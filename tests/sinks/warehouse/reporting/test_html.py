"""The page from known answers, without a database: escaping, charts, the quality section."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser

from sinks.warehouse.report import Answer, Question
from sinks.warehouse.reporting.charts import CHARTS
from sinks.warehouse.reporting.html import Page, Section, heading, render
from sinks.warehouse.reporting.quality import DeadLetters, Quality

EVIL = "Smith & Sons <script>alert(1)</script>"


class Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        if tag == "td" and (v := dict(attrs).get("data-value")) is not None:
            self.values.append(v)


def quality(dead: DeadLetters) -> Quality:
    return Quality(
        batches=2,
        records_loaded=10,
        rows_written=12,
        first_load=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        last_load=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        rejected=[("clean.erp.sales", "UNDECODABLE", 1)],
        inferred=[("dim_dealer", 1, 3)],
        dead_letters=dead,
        scorecard=[],
    )


def page(dead: DeadLetters) -> str:
    a = Answer(
        Question("revenue_by_dealer", "Revenue by <dealer>"),
        ["dealer_id", "dealer_name", "province", "sales", "revenue", "revenue_share_pct"],
        [("DLR-1", EVIL, "GAUTENG", 3, Decimal("1234.50"), Decimal("100.00"))],
    )
    chart = CHARTS["revenue_by_dealer"]
    return render(
        Page(
            "Report & co",
            "h:5432/db",
            dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
            quality(dead),
            [Section(a, chart.draw(a), chart.limit)],
        )
    )


def test_every_value_is_escaped_and_kept_exactly() -> None:
    text = page(DeadLetters({("dlq.erp.sales", "INVALID_<VIN>"): 4}))
    assert "<script>" not in text and "INVALID_<VIN>" not in text
    parser = Cells()
    parser.feed(text)
    assert parser.scripts == 0
    assert EVIL in parser.values and "1234.50" in parser.values
    assert "R\u00a01\u00a0234.50" in text
    assert text.count("<svg") == 2  # the dealer chart and the dead letters


def test_missing_dead_letters_say_why_and_draw_no_chart() -> None:
    text = page(DeadLetters(unavailable="Kafka did not answer"))
    assert "Kafka did not answer" in text and text.count("<svg") == 1
    assert "schema <code>dq</code>" in text  # the scorecard's hook


def test_headings_read_as_words() -> None:
    assert heading("revenue_share_pct") == "Revenue share %"
    assert heading("growth_pct_mom") == "Growth % (MoM)"
    assert heading("revenue_3m_avg") == "Revenue 3-month avg"
