"""One row of an export file to the raw record streamed events carry.

The raw schema decides each field's treatment (read from the ``.avsc``,
never restated): business values become text as the source wrote them (the
processors validate and repair, not the ingester), timestamps become epoch
milliseconds, enum symbols are matched case-insensitively, arrays split.
Only what the raw schema cannot hold is a row error here: no ``event_time``,
an instant that is not one, an enum symbol that does not exist. Such a row
is not published and is listed in the file's report with its line.

Envelope defaults, for columns a file does not have: ``event_type``
``<entity>.exported``, ``source_system`` the landing prefix's domain,
``produced_at`` and ``updated_at`` the row's ``event_time``. The
``event_id`` is always derived (:func:`orion.landing.row_event_id`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any

from orion.catalog import Entity, load_schema
from orion.landing import RowIds
from producers.landing.headers import ColumnMap
from producers.landing.readers.table import SourceRow

__all__ = ["RawRow", "RowBuilder", "RowError", "as_text", "parse_instant"]

ARRAY_SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class RawRow:
    """A row ready to publish: Kafka key and the raw record (with its derived event id).

    The key is the partition key's text as sent (trimmed), or the event id when the
    row has none."""

    line: int
    key: str
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RowError:
    """A data row that cannot become a raw event: where, which field, what value, why."""

    line: int
    reason: str
    field: str | None = None
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "value": self.value, "reason": self.reason}


class _Invalid(Exception):
    def __init__(self, reason: str, value: object = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = None if value is None else str(value)[:200]


def as_text(cell: object) -> str | None:
    """A cell as the text a raw field holds; empty is null.

    Typed cells (XLSX numbers and date-times, JSON numbers) become the text a
    source would have written: integral floats without ``.0`` (Excel stores
    every number as a float), date-times at midnight as the date.
    """
    if cell is None:
        return None
    if isinstance(cell, str):
        return cell if cell != "" else None
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        if math.isfinite(cell) and cell.is_integer() and abs(cell) < 1e15:
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, datetime):
        if cell.tzinfo is None and cell.time() == time(0):
            return cell.date().isoformat()
        return _iso(_utc(cell))
    if isinstance(cell, date | time):
        return cell.isoformat()
    if isinstance(cell, list | dict):
        return json.dumps(cell, separators=(",", ":"), ensure_ascii=False)
    return str(cell)


def parse_instant(cell: object) -> int:
    """Epoch milliseconds of an ISO-8601 instant (no offset: UTC), a date-time cell,
    or epoch milliseconds given as a number."""
    if isinstance(cell, datetime):
        return int(_utc(cell).timestamp() * 1000)
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if not math.isfinite(cell):
            raise _Invalid("not a finite number of epoch milliseconds", cell)
        return int(cell)
    text = as_text(cell)
    if text is None:
        raise _Invalid("missing")
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        return int(_utc(datetime.fromisoformat(text)).timestamp() * 1000)
    except ValueError:
        raise _Invalid("not an ISO-8601 instant (e.g. 2025-03-01T08:15:00.000Z)", text) from None


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


Converter = Callable[[object, dict[str, Any]], Any]
"""(cell, the record so far) -> the field's value, or _Invalid."""


@cache
def _converters(entity: Entity) -> tuple[tuple[str, Converter], ...]:
    out: list[tuple[str, Converter]] = []
    for f in load_schema(entity.schema_path("raw"))["fields"]:
        out.append((f["name"], _converter(entity, f["name"], f["type"])))
    return tuple(out)


def _converter(entity: Entity, name: str, ftype: Any) -> Converter:
    nullable = isinstance(ftype, list) and "null" in ftype
    base = next((t for t in ftype if t != "null"), "string") if isinstance(ftype, list) else ftype
    if isinstance(base, dict) and base.get("logicalType") == "timestamp-millis":

        def instant(cell: object, rec: dict[str, Any]) -> Any:
            if (cell is None or as_text(cell) is None) and name != "event_time":
                return rec["event_time"]  # produced_at, updated_at: as event_time
            return parse_instant(cell)

        return instant
    if isinstance(base, dict) and base.get("type") == "enum":
        symbols = {str(s).upper(): str(s) for s in base["symbols"]}
        default = entity.domain.upper() if name == "source_system" else None

        def enum(cell: object, rec: dict[str, Any]) -> Any:
            text = as_text(cell)
            if text is None:
                if default in symbols:
                    return default
                if nullable:
                    return None
                raise _Invalid(f"missing; one of {sorted(symbols.values())} is required")
            symbol = symbols.get(text.strip().upper())
            if symbol is None:
                raise _Invalid(f"not one of {sorted(symbols.values())}", text)
            return symbol

        return enum
    if isinstance(base, dict) and base.get("type") == "array":

        def array(cell: object, rec: dict[str, Any]) -> Any:
            if isinstance(cell, list):
                return [t for t in (as_text(c) for c in cell) if t is not None]
            text = as_text(cell)
            if text is None:
                return []
            return [part for part in text.split(ARRAY_SEPARATOR) if part != ""]

        return array
    if nullable:
        return lambda cell, rec: as_text(cell)
    default_text = f"{entity.name}.exported" if name == "event_type" else None

    def text(cell: object, rec: dict[str, Any]) -> Any:
        value = as_text(cell)
        if value is None:
            if default_text is None:
                raise _Invalid("missing")
            return default_text
        return value

    return text


class RowBuilder:
    """Turns the data rows of one file into raw records, given its column map and hash."""

    def __init__(self, entity: Entity, columns: ColumnMap, content_sha256: str) -> None:
        self.entity = entity
        self.sha256 = content_sha256
        self._position = {f: i for i, f in enumerate(columns.fields) if f is not None}
        self._converters = _converters(entity)
        self._key_field = entity.partition_key
        self._ids = RowIds(content_sha256)

    def build(self, index: int, row: SourceRow) -> RawRow | RowError:
        """Data row number ``index`` (0-based, bad rows counted) as a raw row or an error."""
        rec: dict[str, Any] = {}
        cells = row.cells
        for name, convert in self._converters:
            if name == "event_id":
                rec[name] = self._ids(index)
                continue
            pos = self._position.get(name)
            cell = cells[pos] if pos is not None else None
            try:
                rec[name] = convert(cell, rec)
            except _Invalid as e:
                return RowError(row.line, e.reason, name, e.value)
        key = rec.get(self._key_field)
        key = key.strip() if isinstance(key, str) else ""
        # A row without its key still needs one partition for ever: librdkafka spreads
        # empty keys at random, and a re-dropped file's copy must meet the first in the
        # same partition's dedup state. The row's id is as stable as the file.
        return RawRow(row.line, key or rec["event_id"], rec)
