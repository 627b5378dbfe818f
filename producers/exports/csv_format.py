"""Rows -> CSV bytes: text cells, one header line, the file's style.

Who calls it: the writer, once per file. Cells are the contract's text: an
empty cell for null (CSV cannot tell an empty string from null, and the
simulator sends no empty strings), instants as ISO-8601 UTC with
milliseconds, the array field joined by ``|``, money with a decimal comma
when the entity's plan says so. The encoding is the style's; cp1252 only if
every character of the file has a cp1252 form, else UTF-8.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from producers.exports.columns import Columns, decimal_comma, iso
from producers.exports.plan import EntityPlan
from producers.exports.style import FileStyle, extra_cells

__all__ = ["csv_bytes", "text_cells"]


def text_cells(cols: Columns, row: Mapping[str, Any], comma: bool) -> list[str]:
    """One row's cells as text, in field order (also what XLSX writes for non-instants)."""
    out = []
    for f in cols.fields:
        v = row.get(f)
        if v is None:
            out.append("")
        elif f in cols.instants:
            out.append(iso(v))
        elif f in cols.arrays:
            out.append("|".join(v))
        elif comma and f in cols.money and (c := decimal_comma(v)) is not None:
            out.append(c)
        else:
            out.append(str(v))
    return out


def csv_bytes(
    cols: Columns, rows: Sequence[Mapping[str, Any]], style: FileStyle, plan: EntityPlan
) -> bytes:
    """The file's bytes; data row ``i`` of the result is ``rows[i]``."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=plan.delimiter, lineterminator=style.newline)
    header = [*style.headers, *style.extras]
    writer.writerow(header)
    for i, row in enumerate(rows):
        if i in style.blank_before:
            buf.write(style.newline)
        if i == style.header_again_before:
            writer.writerow(header)
        cells = text_cells(cols, row, plan.decimal_comma)
        writer.writerow([*cells, *extra_cells(style, cells)])
    if len(rows) in style.blank_before:
        buf.write(style.newline)
    text = buf.getvalue()
    if style.encoding == "cp1252":
        try:
            return text.encode("cp1252")
        except UnicodeEncodeError:
            return text.encode("utf-8")
    return text.encode(style.encoding)
