"""The report as one self-contained HTML page: data quality first, then each question.

Pure: a :class:`Page` in, a string out. No script, no external stylesheet,
font or image, so it opens the same offline, in a mail client or printed.
Every value is escaped here or in :mod:`svg`; a table cell carries the exact
value in ``data-value`` beside the formatted text people read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

from sinks.warehouse.report import Answer
from sinks.warehouse.reporting.charts import dead_letter_chart
from sinks.warehouse.reporting.formatting import Kind, display, kind_of, plain
from sinks.warehouse.reporting.quality import Quality

__all__ = ["Page", "Section", "render"]


@dataclass(frozen=True)
class Section:
    answer: Answer
    chart: str | None  # SVG markup, already escaped
    limit: int | None  # rows asked for; a full answer means there may be more
    note: str = ""


@dataclass(frozen=True)
class Page:
    title: str
    source: str  # host:port/database, never credentials
    generated_at: dt.datetime
    quality: Quality
    sections: list[Section]


def _e(v: object) -> str:
    return escape(str(v), quote=True)


def heading(column: str) -> str:
    """``revenue_share_pct`` -> ``Revenue share %``."""
    words = column.replace("_pct", " %").replace("_mom", " (MoM)").replace("_3m_", " 3-month ")
    text = words.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def table(a: Answer, css: str = "answer") -> str:
    kinds = [kind_of(c, [r[i] for r in a.rows]) for i, c in enumerate(a.columns)]
    head = "".join(
        f'<th data-column="{_e(c)}" class="{k.value}">{_e(heading(c))}</th>'
        for c, k in zip(a.columns, kinds, strict=True)
    )
    body = []
    for r in a.rows:
        cells = "".join(
            f'<td class="{k.value}" data-value="{_e(plain(v))}">{_e(display(v, k))}</td>'
            for v, k in zip(r, kinds, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    if not a.rows:
        body.append(f'<tr><td class="empty" colspan="{len(a.columns)}">no rows</td></tr>')
    return (
        f'<table class="{css}" data-question="{_e(a.question.name)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _when(t: dt.datetime | None) -> str:
    return t.astimezone(dt.UTC).strftime("%d %b %Y %H:%M UTC") if t else "never"


def _tile(label: str, value: str, note: str, state: str = "") -> str:
    return (
        f'<div class="tile {state}"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div><div class="note">{_e(note)}</div></div>'
    )


def _small_table(css: str, headings: list[str], rows: list[list[str]], counts: int = 1) -> str:
    """Text in the first columns, ``counts`` columns of counts at the end (right-aligned)."""
    first = len(headings) - counts
    align = ["integer" if i >= first else "text" for i in range(len(headings))]
    head = "".join(f'<th class="{a}">{_e(h)}</th>' for h, a in zip(headings, align, strict=True))
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{a}">{_e(c)}</td>' for c, a in zip(r, align, strict=True))
        + "</tr>"
        for r in rows
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _n(v: int) -> str:
    return display(v, Kind.integer)


def quality_section(q: Quality) -> str:
    n = _n
    dl = q.dead_letters
    tiles = [
        _tile("Records loaded", n(q.records_loaded), f"in {n(q.batches)} batch(es)"),
        _tile("Last load", _when(q.last_load), f"first {_when(q.first_load)}", "when"),
        _tile(
            "Dead letters",
            "not counted" if dl.unavailable else n(dl.total),
            dl.unavailable or f"{len(dl.by_reason())} reason(s)",
            "warn" if dl.unavailable or dl.total else "ok",
        ),
        _tile(
            "Rejected by the warehouse",
            n(q.rejected_total),
            "undecodable records skipped",
            "bad" if q.rejected_total else "ok",
        ),
        _tile(
            "Inferred members",
            n(q.inferred_total),
            "facts still waiting for their master record",
            "warn" if q.inferred_total else "ok",
        ),
    ]
    parts = [f'<div class="tiles">{"".join(tiles)}</div>']
    if dl.counts:
        parts.append('<h3>Dead letters by reason</h3><figure data-question="dead_letters">')
        parts.append(dead_letter_chart(dl.by_reason()) + "</figure>")
        rows = [[t, r, n(c)] for (t, r), c in sorted(dl.counts.items(), key=lambda kv: -kv[1])]
        parts.append(_small_table("dq dead-letters", ["Topic", "Reason", "Records"], rows))
    if q.rejected:
        parts.append("<h3>Records the warehouse could not load</h3>")
        rows = [[t, r, n(c)] for t, r, c in q.rejected]
        parts.append(_small_table("dq rejected", ["Topic", "Reason", "Records"], rows))
    parts.append("<h3>Inferred dimension members</h3>")
    rows = [[d, n(total), n(i)] for d, i, total in q.inferred]
    parts.append(_small_table("dq inferred", ["Dimension", "Current members", "Inferred"], rows, 2))
    if q.scorecard:
        for a in q.scorecard:
            parts.append(f"<h3>{_e(a.question.title)}</h3>" + table(a, "answer dq-scorecard"))
    else:
        parts.append(
            '<p class="hook">No data-quality scorecard yet: views in schema <code>dq</code> '
            "will appear here, each titled by its comment.</p>"
        )
    return (
        '<section id="data-quality" class="quality"><h2>Data quality of this run</h2>'
        + "".join(parts)
        + "</section>"
    )


def _section(s: Section) -> str:
    a = s.answer
    more = s.limit is not None and len(a.rows) >= s.limit
    meta = [f"analytics.{a.question.name}", f"{len(a.rows)} row(s)"]
    if more:
        meta.append(
            s.note
            or f"the first {s.limit}; "
            f"`orion report --question {a.question.name} --limit N` for more"
        )
    chart = f'<figure data-question="{_e(a.question.name)}">{s.chart}</figure>' if s.chart else ""
    return (
        f'<section class="question" id="q-{_e(a.question.name)}">'
        f"<h2>{_e(a.question.title)}</h2>"
        f'<p class="meta">{_e(" · ".join(meta))}</p>{chart}{table(a)}</section>'
    )


CSS = """
:root { --ink:#1b2631; --muted:#5d6d7e; --line:#d5dbe1; --band:#f4f6f8; --navy:#1f4e79; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:#fff;
       font:14px/1.45 "Segoe UI", Helvetica, Arial, sans-serif; }
header { background:var(--navy); color:#fff; padding:24px 40px; }
header h1 { margin:0 0 4px; font-size:24px; font-weight:600; }
header p { margin:0; opacity:.85; }
main { max-width:1120px; margin:0 auto; padding:8px 40px 48px; }
h2 { font-size:18px; margin:0 0 2px; color:var(--navy); }
h3 { font-size:14px; margin:18px 0 6px; }
section { border-bottom:1px solid var(--line); padding:22px 0; break-inside:avoid; }
.meta, .hook, .note { color:var(--muted); font-size:12px; }
.meta { margin:0 0 10px; }
figure { margin:6px 0 12px; }
svg.chart { max-width:100%; height:auto; display:block; }
table { border-collapse:collapse; font-variant-numeric:tabular-nums; font-size:13px; }
th, td { padding:4px 10px; border-bottom:1px solid var(--line); text-align:left;
         white-space:nowrap; }
th { background:var(--band); font-weight:600; }
td.money, td.integer, td.number, td.percent,
th.money, th.integer, th.number, th.percent { text-align:right; }
td.empty { color:var(--muted); font-style:italic; }
nav ol { columns:2; font-size:13px; padding-left:20px; }
nav a { color:var(--navy); text-decoration:none; }
.tiles { display:flex; flex-wrap:wrap; gap:12px; margin:12px 0 4px; }
.tile { flex:1 1 190px; border:1px solid var(--line); border-left:5px solid var(--navy);
        border-radius:4px; padding:10px 14px; }
.tile.ok { border-left-color:#3b8b5a; } .tile.warn { border-left-color:#f18f01; }
.tile.bad { border-left-color:#c73e1d; }
.tile .label { font-size:12px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
.tile .value { font-size:22px; font-weight:600; margin:2px 0; }
.tile.when .value { font-size:16px; padding:4px 0 3px; }
@media print { header { background:none; color:var(--ink); } }
"""


def render(page: Page) -> str:
    toc = "".join(
        f'<li><a href="#q-{_e(s.answer.question.name)}">{_e(s.answer.question.title)}</a></li>'
        for s in page.sections
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(page.title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_e(page.title)}</h1><p>Warehouse {_e(page.source)} · generated "
        f"{_e(page.generated_at.strftime('%Y-%m-%d %H:%M %Z').strip())} · amounts in rand (ZAR) "
        "· the financial year runs March to February</p></header><main>"
        + quality_section(page.quality)
        + f"<nav><h2>Questions</h2><ol>{toc}</ol></nav>"
        + "".join(_section(s) for s in page.sections)
        + "</main></body></html>\n"
    )
