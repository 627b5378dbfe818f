"""How messy one export file is: headers, extra columns, encoding, line endings, stray lines.

Who calls it: the writer, once per file, with a ``random.Random`` seeded from
the run's seed, the entity and the file's number, so the same run gives the
same files byte for byte. What varies is what real exports vary in; nothing
here changes a value (the value defects are the simulator's):

- headers: the field name, a spaced and capitalised variant (``Sale ID``),
  an upper-cased one (``SALE_ID``), camelCase in JSON (``saleId``), or one of
  the raw schema's ``orion.headers`` aliases (``Price (ZAR)``); all fold to
  the field under the contract's rule (case folded, letters and digits only);
- extra columns the ingester ignores (``Exported By``, ``Row Hash``,
  ``Batch``);
- CSV only: a UTF-8 BOM, cp1252 (the writer falls back to UTF-8 when a value
  is not encodable), CRLF line endings, blank lines, the header line again
  part-way (a report's page break);
- XLSX only: instants as date-time cells (UTC) instead of text;
- JSON only: instants as epoch milliseconds instead of text, indentation.

A blank line or a repeated header is never a data row (the contract), and no
data row can look like either: every row's first cell is its event id.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from producers.exports.columns import Columns, camel, title
from producers.exports.plan import Format

__all__ = ["EXTRA_HEADERS", "FileStyle", "draw_style", "extra_cells"]

EXTRA_HEADERS = ("Exported By", "Row Hash", "Batch")
"""Unknown columns some files carry; none folds to a raw field's name or alias."""
_EXPORTERS = ("svc_export", "ETL_NIGHTLY", "t.naidoo", "portal-bot")


@dataclass(frozen=True)
class FileStyle:
    """The choices for one file (see the module docstring)."""

    headers: tuple[str, ...]
    """One per raw field, in field order."""
    extras: tuple[str, ...] = ()
    exported_by: str = ""
    batch: str = ""
    encoding: str = "utf-8"
    """``utf-8``, ``utf-8-sig`` (with BOM) or ``cp1252``."""
    newline: str = "\n"
    blank_before: frozenset[int] = field(default_factory=frozenset)
    """Data-row indexes a blank line precedes (``len(rows)``: a trailing one)."""
    header_again_before: int | None = None
    """The data-row index the header line is repeated before."""
    typed_instants: bool = False
    epoch_ms: bool = False
    indent: int | None = None


def _same(field: str) -> str:
    return field


def _headers(cols: Columns, rng: random.Random, fmt: Format) -> tuple[str, ...]:
    names: tuple[Callable[[str], str], ...] = (_same, title, str.upper)
    base = rng.choice((*names, camel) if fmt.is_json else names)
    alias_share = rng.choice((0.0, 0.5, 1.0))
    out = []
    for f in cols.fields:
        aliases = cols.aliases.get(f, ())
        if aliases and rng.random() < alias_share:
            out.append(rng.choice(aliases))
        else:
            out.append(base(f))
    return tuple(out)


def _extras(rng: random.Random, fmt: Format) -> tuple[str, ...]:
    if rng.random() >= 0.3:
        return ()
    chosen = [h for h in EXTRA_HEADERS if rng.random() < 0.6] or [EXTRA_HEADERS[0]]
    return tuple(camel(h.lower().replace(" ", "_")) if fmt.is_json else h for h in chosen)


def draw_style(fmt: Format, cols: Columns, rows: int, rng: random.Random) -> FileStyle:
    """The style of a file of ``rows`` data rows; all draws come from ``rng``."""
    base = FileStyle(
        headers=_headers(cols, rng, fmt),
        extras=_extras(rng, fmt),
        exported_by=rng.choice(_EXPORTERS),
        batch=f"B{rng.randrange(10**6):06d}",
    )
    if fmt is Format.CSV:
        r = rng.random()
        blanks: frozenset[int] = frozenset()
        if rows and rng.random() < 0.25:
            blanks = frozenset(rng.randrange(1, rows + 1) for _ in range(rng.randint(1, 3)))
        again = rng.randrange(1, max(rows, 2))
        return replace(
            base,
            encoding="utf-8-sig" if r < 0.25 else "cp1252" if r < 0.45 else "utf-8",
            newline="\r\n" if rng.random() < 0.4 else "\n",
            blank_before=blanks,
            header_again_before=again if rows > 1 and rng.random() < 0.15 else None,
        )
    if fmt is Format.XLSX:
        return replace(base, typed_instants=rng.random() < 0.5)
    jsonl = fmt is Format.JSONL
    return replace(
        base,
        epoch_ms=rng.random() < 0.3,
        newline="\r\n" if jsonl and rng.random() < 0.2 else "\n",
        blank_before=frozenset({rows}) if jsonl and rng.random() < 0.3 else frozenset(),
        indent=rng.choice((None, 2)) if fmt is Format.JSON else None,
    )


def extra_cells(style: FileStyle, cells: Sequence[str]) -> list[str]:
    """The extra columns' values of one row (a row hash over its real cells)."""
    out = []
    for h in style.extras:
        key = h.replace(" ", "").lower()
        if key == "exportedby":
            out.append(style.exported_by)
        elif key == "rowhash":
            digest = hashlib.blake2b("\x1f".join(cells).encode(), digest_size=8)
            out.append(digest.hexdigest())
        else:
            out.append(style.batch)
    return out
