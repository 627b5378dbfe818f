"""XLSX exports, read with openpyxl in read-only mode (rows stream from the zip).

Before openpyxl sees the bytes, the zip's declared sizes are checked: a file
that would expand past ``ReadOptions.max_expanded_bytes`` (a zip bomb named
``.xlsx``) is rejected unread. A truncated file, or anything that is not an
Office Open XML workbook, is rejected with the library's reason. Cells keep
their types (numbers, date-times); :mod:`producers.landing.rows` turns them
into the raw record's text.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from producers.landing.headers import fold
from producers.landing.readers.table import (
    BadRow,
    FileRejected,
    ReadOptions,
    SourceRow,
    Table,
    is_blank,
    is_header_again,
)

__all__ = ["read"]


def read(data: bytes, options: ReadOptions) -> Table:
    _check_zip(data, options.max_expanded_bytes)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise FileRejected("MALFORMED_XLSX", f"not a readable workbook: {e}") from e
    sheet: Any
    if options.sheet is not None:
        if options.sheet not in book.sheetnames:
            book.close()
            raise FileRejected(
                "NO_SUCH_SHEET", f"no sheet {options.sheet!r}; the workbook has {book.sheetnames}"
            )
        sheet = book[options.sheet]
    else:
        sheet = book.worksheets[0]
    rows = _guarded(sheet.iter_rows(values_only=True))
    headers: tuple[Any, ...] | None = None
    header_line = 0
    for header_line, cells in enumerate(rows, start=1):  # noqa: B007 - read after the loop
        if not is_blank(cells):
            headers = _trim(cells)
            break
    if headers is None:
        book.close()
        raise FileRejected("EMPTY_FILE", f"sheet {sheet.title!r} has no header row")
    details = {"sheet": str(sheet.title)}
    return Table(headers, _rows(book, rows, headers, header_line), details)


def _rows(
    book: Any, rows: Iterator[tuple[Any, ...]], headers: tuple[Any, ...], header_line: int
) -> Iterator[SourceRow | BadRow]:
    folded = tuple(fold("" if h is None else str(h)) for h in headers)
    width = len(headers)
    try:
        for line, cells in enumerate(rows, start=header_line + 1):
            if is_blank(cells) or is_header_again(cells, folded):
                continue
            if len(cells) > width and not is_blank(cells[width:]):
                yield BadRow(line, f"{len(_trim(cells))} cells, the header has {width}")
            else:
                yield SourceRow(line, tuple(cells[:width]) + (None,) * (width - len(cells)))
    finally:
        book.close()


def _guarded(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Rows, with a workbook broken inside (a truncated sheet) as FileRejected."""
    try:
        yield from rows
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as e:
        raise FileRejected("MALFORMED_XLSX", f"the sheet cannot be read to its end: {e}") from e


def _trim(cells: tuple[Any, ...]) -> tuple[Any, ...]:
    """Without trailing empty cells (Excel pads rows to the sheet's used width)."""
    end = len(cells)
    while end and (cells[end - 1] is None or str(cells[end - 1]).strip() == ""):
        end -= 1
    return tuple(cells[:end])


def _check_zip(data: bytes, limit: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            expanded = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile as e:
        raise FileRejected("MALFORMED_XLSX", f"not a zip (XLSX is one): {e}") from e
    if expanded > limit:
        raise FileRejected(
            "TOO_LARGE",
            f"the workbook expands to {expanded:,} bytes, over the limit of {limit:,} "
            "(ORION_INGEST_MAX_EXPANDED_BYTES): a zip bomb, or an export to split",
        )
