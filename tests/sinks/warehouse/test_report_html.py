"""`orion report --format html` on a seeded warehouse, opened in a real headless Chromium.

The page is written through the command's own entry point, then Chromium
dumps the DOM it built and takes a screenshot: every charted question has a
non-blank SVG, the browser logged nothing to its console, the screenshot is
not blank, and the numbers in every table equal the SQL answers of the same
views, queried here directly.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import struct
import subprocess
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from psycopg2 import sql

from orion import deadletter
from orion.settings import OrionSettings
from sinks.warehouse.reporting.charts import CHARTS
from tests.warehouse_sql.support import cli_entry, load_sample

pytestmark = pytest.mark.integration

EVIL = "Smith & Sons <b>Motors</b>"
DEFAULT_LIMIT = 20
DEAD = {("dlq.erp.sales", "INVALID_VIN"): 3, ("dlq.finance.payments", "UNKNOWN_REFERENCE"): 2}
ORDERED = re.compile(r"ORDER BY [^()]*;?\s*$", re.IGNORECASE)
SHAPES = {"rect", "polyline", "circle", "path", "line"}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("no chromium on PATH: `make deps` installs it (apt-get install chromium)")
    return found


def browse(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@dataclass
class Dom(HTMLParser):
    """Tables (per question: rows of (data-value, text)) and SVGs (shapes drawn) of a page."""

    tables: dict[str, list[list[tuple[str, str]]]] = field(default_factory=dict)
    svgs: list[int] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    external: list[str] = field(default_factory=list)
    _table: str | None = None
    _cell: list[str] | None = None
    _value: str = ""

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        self.external += [v for k, v in attrs if k in ("src", "href") and v and "://" in v]
        if tag == "table" and a.get("class") == "answer":
            self._table = a["data-question"]
            self.tables[str(self._table)] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag == "td" and self._table and "data-value" in a:
            self._cell, self._value = [], str(a["data-value"])
        elif tag == "svg":
            self.svgs.append(0)
        elif tag in SHAPES and self.svgs:
            size = [float(a.get(k) or 0) for k in ("width", "height", "r")]
            if (tag != "rect" and tag != "circle") or any(s > 0 for s in size):
                self.svgs[-1] += 1
        elif tag == "figure":
            self.figures.append(str(a.get("data-question")))

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append((self._value, "".join(self._cell)))
            self._cell = None
        elif tag == "table":
            self._table = None


def as_text(v: Any) -> str:
    if v is None:
        return ""
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def shown_number(text: str) -> Decimal:
    """``R 1 234.50`` / ``-R 3.00`` / ``12.50 %`` / ``1 234`` as a Decimal."""
    t = text.replace("\u00a0", "").replace("%", "").replace("R", "")
    return Decimal(t)


def png_pixels_vary(path: Path) -> tuple[tuple[int, int], float]:
    """(width, height) and the share of non-zero bytes in the decompressed, filtered scanlines.

    A blank page's rows filter to zeros (Chromium's blank 1280x4000 page: 0.03 %).
    """
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    return size, 1 - raw.count(0) / len(raw)


@pytest.fixture
def dead_letter_prefix(settings: OrionSettings, kafka_admin: AdminClient) -> Iterator[str]:
    """A topic prefix with two dead-letter topics holding the records of DEAD."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    topics = sorted({prefix + t for t, _r in DEAD})
    for f in kafka_admin.create_topics([NewTopic(t, 1, 1) for t in topics]).values():
        f.result(timeout=30)
    producer = Producer(settings.kafka_client_config())
    for (topic, reason), n in DEAD.items():
        for i in range(n):
            producer.produce(prefix + topic, value=b"x%d" % i, headers={deadletter.REASON: reason})
    assert producer.flush(30) == 0
    yield prefix
    for f in kafka_admin.delete_topics(topics).values():
        f.result(timeout=30)


def test_html_report_renders_in_a_browser_with_the_warehouse_numbers(
    warehouse_db: str, dead_letter_prefix: str, tmp_path: Path
) -> None:
    load_sample(warehouse_db)
    with psycopg2.connect(warehouse_db) as conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE warehouse.dim_dealer SET dealer_name = %s WHERE dealer_id = "
            "(SELECT dealer_id FROM analytics.revenue_by_dealer LIMIT 1)",
            (EVIL,),
        )
    conn.close()
    page = tmp_path / "out" / "report.html"
    done = subprocess.run(
        [*cli_entry(), "report", "--format", "html", "--output", str(page)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "ORION_DATABASE_URL": warehouse_db,
             "ORION_TOPIC_PREFIX": dead_letter_prefix, "ORION_LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert str(page) in done.stdout.replace("\n", "")

    dumped = browse(page, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert console_lines(dumped.stderr) == []
    dom = Dom()
    dom.feed(dumped.stdout)

    # Every charted question (and the dead letters) has one SVG with shapes drawn.
    with psycopg2.connect(warehouse_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema = 'analytics'"
        )
        views = {r[0] for r in cur.fetchall()}
    charted = [n for n in CHARTS if n in views]
    assert len(charted) >= 8
    assert sorted(dom.figures) == sorted([*charted, "dead_letters"])
    assert len(dom.svgs) == len(charted) + 1
    assert all(shapes > 0 for shapes in dom.svgs), dom.svgs
    assert "script" not in dom.tags and dom.external == []

    # The dead letters came from Kafka, per reason.
    text = dumped.stdout
    assert "INVALID_VIN" in text and "UNKNOWN_REFERENCE" in text

    # Every table holds the rows of its view, exactly; the shown text reads as the same number.
    assert set(dom.tables) == views
    cells = 0
    with conn.cursor() as cur:
        for name, rows in dom.tables.items():
            chart = CHARTS.get(name)
            limit = chart.limit if chart else DEFAULT_LIMIT
            cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier("analytics", name)))
            typed = cur.fetchall()
            full = [[as_text(v) for v in r] for r in typed]
            cur.execute("SELECT pg_get_viewdef(%s::regclass)", (f"analytics.{name}",))
            row = cur.fetchone()
            assert row is not None
            got = [r for r in rows if r]  # the header row has no cells
            values = [[v for v, _t in r] for r in got]
            if ORDERED.search(row[0]):
                assert values == full[:limit], name
            else:  # no ORDER BY: LIMIT takes any rows of the view
                assert len(values) == len(full[:limit]), name
                assert all(r in full for r in values), name
            by_text = {tuple(t): r for t, r in zip(full, typed, strict=True)}
            expected = [by_text[tuple(r)] for r in values]
            for r_got, r_sql in zip(got, expected, strict=True):
                for (_v, shown), value in zip(r_got, r_sql, strict=True):
                    if isinstance(value, Decimal | int) and not isinstance(value, bool):
                        places = Decimal(1).scaleb(shown_number(shown).as_tuple().exponent)  # type: ignore[arg-type]
                        assert shown_number(shown) == Decimal(value).quantize(places), (name, shown)
                        cells += 1
    conn.close()
    assert cells > 200
    dealers = [t for r in dom.tables["revenue_by_dealer"] for _v, t in r]
    assert EVIL in dealers and "b" not in dom.tags  # shown as text, not markup

    shot = tmp_path / "report.png"
    taken = browse(page, f"--screenshot={shot}", "--window-size=1280,4000")
    assert taken.returncode == 0 and console_lines(taken.stderr) == []
    size, varied = png_pixels_vary(shot)
    assert size == (1280, 4000)
    assert varied > 0.01, f"the screenshot looks blank ({varied:.4%} of bytes vary)"
    if keep := os.environ.get("ORION_TEST_KEEP_REPORT"):
        shutil.copy(shot, keep)


def test_the_console_check_sees_a_script_error(tmp_path: Path) -> None:
    """The control: this Chromium logs page errors where console_lines looks."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    result = browse(page, "--dump-dom")
    assert any("undefinedFunction" in line for line in console_lines(result.stderr))
