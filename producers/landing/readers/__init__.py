"""Bytes of one export file to a table of rows, by the file's suffix.

Each reader streams: rows come out as they are read, so a 50 MB CSV never
sits in memory as Python objects. What every reader guarantees:

- the header row is the first non-blank row; later rows equal to it (a
  repeated header, as concatenated exports have) and blank rows are not
  data rows and are skipped;
- a row that cannot be a row (a JSON line that does not parse, a CSV row
  with more or fewer cells than the header) comes out as :class:`BadRow`
  with its line number, and reading goes on;
- a file that cannot be read at all raises :class:`FileRejected` with the
  reason, before or during reading (rows already read stay read).
"""

from __future__ import annotations

from collections.abc import Callable

from producers.landing.readers import delimited, json_rows, xlsx
from producers.landing.readers.table import (
    BadRow,
    FileRejected,
    ReadOptions,
    SourceRow,
    Table,
)

__all__ = ["FORMATS", "BadRow", "FileRejected", "ReadOptions", "SourceRow", "Table", "read_table"]

FORMATS: dict[str, Callable[[bytes, ReadOptions], Table]] = {
    "csv": delimited.read,
    "json": json_rows.read_array,
    "jsonl": json_rows.read_lines,
    "ndjson": json_rows.read_lines,
    "xlsx": xlsx.read,
}


def read_table(name: str, data: bytes, options: ReadOptions | None = None) -> Table:
    """The table of file ``name`` (its suffix picks the format); FileRejected if unreadable."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    reader = FORMATS.get(suffix)
    if reader is None:
        raise FileRejected(
            "UNSUPPORTED_FORMAT",
            f"{name!r}: suffix {suffix or '(none)'!r} is not one of {sorted(FORMATS)}",
        )
    if not data.strip():
        raise FileRejected("EMPTY_FILE", "the file has no content, not even a header row")
    return reader(data, options or ReadOptions())
