"""Rows -> XLSX bytes (openpyxl, write-only): one sheet, a header row, text cells.

Who calls it: the writer, once per file. Business values are text cells
(null: an empty cell; the array field joined by ``|``, empty when empty);
instants are ISO-8601 text, or, when the style says so, date-time cells in
UTC with a millisecond number format, so the ingester must read typed cells.

Byte-identical output for the same rows: the workbook's created/modified
properties are the file's simulated export time (``save_workbook`` would
stamp the wall clock), and the zip entries are re-packed with a fixed
timestamp (zipfile stamps the wall clock on each entry).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.writer.excel import ExcelWriter

from producers.exports.columns import Columns, iso, to_datetime
from producers.exports.style import FileStyle, extra_cells

__all__ = ["DATETIME_FORMAT", "xlsx_bytes"]

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss.000"
_ZIP_TIME = (2025, 1, 1, 0, 0, 0)


def _repack(data: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(fixed, zin.read(info))
    return out.getvalue()


def xlsx_bytes(
    cols: Columns,
    rows: Sequence[Mapping[str, Any]],
    style: FileStyle,
    sheet: str,
    exported_at: datetime,
) -> bytes:
    """The file's bytes; sheet row ``i + 2`` is ``rows[i]``."""
    wb = Workbook(write_only=True)
    wb.properties.creator = style.exported_by
    wb.properties.created = wb.properties.modified = exported_at
    ws = wb.create_sheet(sheet[:31])
    ws.append([*style.headers, *style.extras])
    for row in rows:
        cells: list[Any] = []
        texts: list[str] = []
        for f in cols.fields:
            v = row.get(f)
            if v is None or (f in cols.arrays and not v):
                cells.append(None)
                texts.append("")
                continue
            if f in cols.instants:
                text = iso(v)
                if style.typed_instants:
                    cell = WriteOnlyCell(ws, value=to_datetime(v))
                    cell.number_format = DATETIME_FORMAT
                    cells.append(cell)
                    texts.append(text)
                    continue
            elif f in cols.arrays:
                text = "|".join(v)
            else:
                text = str(v)
            cells.append(text)
            texts.append(text)
        ws.append([*cells, *extra_cells(style, texts)])
    buf = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    return _repack(buf.getvalue())
