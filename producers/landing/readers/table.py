"""The shapes every reader returns: a table of rows, a bad row, a rejected file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from producers.landing.headers import fold

__all__ = [
    "BadRow",
    "FileRejected",
    "ReadOptions",
    "SourceRow",
    "Table",
    "is_blank",
    "is_header_again",
]


class FileRejected(Exception):
    """The file as a whole cannot be ingested; ``reason`` is a short code, ``detail`` the why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row: where it is in the file (1-based line or sheet row) and its cells."""

    line: int
    cells: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A data row that cannot be read as one, and why."""

    line: int
    reason: str


@dataclass
class Table:
    """The header row and the data rows of one file."""

    headers: tuple[object, ...]
    rows: Iterator[SourceRow | BadRow]
    details: dict[str, str] = field(default_factory=dict)
    """What the reader found out, for the report: encoding, delimiter, sheet."""


@dataclass(frozen=True)
class ReadOptions:
    sheet: str | None = None
    """XLSX: the sheet to read (default the first)."""
    max_expanded_bytes: int = 512 * 1024 * 1024
    """XLSX: the most its zip may expand to (a zip bomb stops here)."""


def is_header_again(cells: tuple[object, ...], folded_headers: tuple[str, ...]) -> bool:
    """True for a row that repeats the header row (concatenated exports)."""
    if not cells or not folded_headers:
        return False
    first = cells[0]
    if fold("" if first is None else str(first)) != folded_headers[0]:
        return False  # the common case, decided on one cell
    return tuple(fold("" if c is None else str(c)) for c in cells[: len(folded_headers)]) == (
        folded_headers
    )


def is_blank(cells: tuple[object, ...]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)
