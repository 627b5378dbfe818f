"""The columns of an entity's export files, read from its raw ``.avsc``.

Who uses it: the format modules (what to write in a cell) and the style
module (how a column may be headed). One column per raw field, envelope
included, in schema order; which fields are instants, arrays or money comes
from the schemas (money: the clean schema's decimals, via
:mod:`producers.topics`), so nothing here restates a schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from orion.catalog import Entity, entity, load_schema
from producers.clock import Formatter
from producers.topics import topic_spec

__all__ = ["Columns", "camel", "columns_of", "decimal_comma", "iso", "title", "to_datetime"]

_FMT = Formatter()
_CLEAN_DECIMAL = re.compile(r"-?\d+\.\d{1,2}")
_UPPER_WORDS = frozenset({"id", "vin", "km", "pct"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Columns:
    """What an entity's files hold, column by column."""

    entity: Entity
    fields: tuple[str, ...]
    """Every raw field, in schema order."""
    instants: frozenset[str]
    """timestamp-millis fields: epoch ms in the simulator, ISO-8601 (or a date cell) in files."""
    arrays: frozenset[str]
    money: frozenset[str]
    aliases: Mapping[str, tuple[str, ...]]
    """The raw schema's ``orion.headers``, per field."""


def _logical(t: Any) -> tuple[Any, Any]:
    if isinstance(t, list):
        t = next(x for x in t if x != "null")
    if isinstance(t, dict):
        return t.get("type"), t.get("logicalType")
    return t, None


@cache
def columns_of(stem: str) -> Columns:
    """The columns of ``erp.sales`` etc. (cached: read once per process)."""
    ent = entity(stem)
    schema = load_schema(ent.schema_path("raw"))
    fields, instants, arrays = [], set(), set()
    for f in schema["fields"]:
        name = f["name"]
        fields.append(name)
        base, logical = _logical(f["type"])
        if logical == "timestamp-millis":
            instants.add(name)
        elif base == "array":
            arrays.add(name)
    return Columns(
        entity=ent,
        fields=tuple(fields),
        instants=frozenset(instants),
        arrays=frozenset(arrays),
        money=frozenset(topic_spec(ent.topic("raw")).money),
        aliases=dict(ent.headers),
    )


def title(field: str) -> str:
    """``sale_id`` -> ``Sale ID``: how a spreadsheet person heads a column."""
    return " ".join(w.upper() if w in _UPPER_WORDS else w.capitalize() for w in field.split("_"))


def camel(field: str) -> str:
    """``sale_id`` -> ``saleId``: how a JSON API names a key."""
    head, *rest = field.split("_")
    return head + "".join(w.capitalize() for w in rest)


def iso(ms: int) -> str:
    """``2025-03-01T08:15:00.000Z``: the contract's instant text."""
    return _FMT.iso(ms)


def to_datetime(ms: int) -> datetime:
    """A naive UTC datetime of an instant (XLSX cells carry no zone; the contract says UTC)."""
    return (_EPOCH + timedelta(milliseconds=ms)).replace(tzinfo=None)


def decimal_comma(value: Any) -> str | None:
    """``"1234.50"`` -> ``"1234,50"`` for a clean decimal; None for anything else.

    Only clean decimals change: a value the simulator damaged on purpose
    (``"R 1 234,50"``, ``"N/A"``) is written exactly as it is.
    """
    if isinstance(value, str) and _CLEAN_DECIMAL.fullmatch(value):
        return value.replace(".", ",")
    return None
