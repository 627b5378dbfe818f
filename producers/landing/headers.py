"""Column headers of export files to the raw fields they hold, declared once.

A header matches a field when both fold to the same text: lower case,
letters and digits only (``Sale ID``, ``sale_id`` and ``SALEID`` are all
``saleid``). Headers that fold differently from the field name are declared
as ``orion.headers`` on the field in the raw ``.avsc`` (read by
:mod:`orion.catalog`); nothing here lists them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from orion.catalog import Entity, load_schema
from orion.exceptions import SchemaError

__all__ = ["ColumnMap", "fold", "header_index", "map_columns", "required_fields"]

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
IGNORED = ("event_id",)
"""Fields a file may carry that the ingester does not take: a row's id is derived
from the file (see :mod:`orion.landing`), whatever the source called its own."""


def fold(header: str) -> str:
    """The form headers are compared in: lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", header.strip().lower())


@cache
def header_index(entity: Entity) -> dict[str, str]:
    """Folded header -> raw field of ``entity``; SchemaError when two fields share a header."""
    fields = [f["name"] for f in load_schema(entity.schema_path("raw"))["fields"]]
    aliases = dict(entity.headers)
    index: dict[str, str] = {}
    for name in fields:
        for header in (name, *aliases.get(name, ())):
            key = fold(header)
            if index.get(key, name) != name:
                raise SchemaError(
                    f"{entity.schema_path('raw')}: header {header!r} would name both "
                    f"{index[key]} and {name}",
                    fix="give each field orion.headers that no other field folds to",
                )
            index[key] = name
    return index


def required_fields(entity: Entity) -> tuple[str, ...]:
    """Columns a file of ``entity`` must have, or it is rejected whole.

    ``event_time`` (a raw event cannot exist without it), the business key and
    the partition key (without them no row can be told apart or routed), and
    for master data ``operation`` (guessing UPSERT would turn a source's
    deletes into changes). Every other column may be absent: its value is
    null, or for the envelope a default (see :mod:`.rows`).
    """
    out = ["event_time", entity.partition_key, *entity.business_key]
    if entity.master:
        out.append("operation")
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class ColumnMap:
    """What a file's header row means for one entity."""

    fields: tuple[str | None, ...]
    """Per column, the raw field it holds, or None (unknown, ignored, or a repeat)."""
    unknown: tuple[str, ...]
    """Headers that name no field: ignored, and counted in the report."""
    missing: tuple[str, ...]
    """Required fields no column holds: the file is rejected."""
    repeated: tuple[str, ...]
    """Fields two columns claim: the first column wins."""

    def present(self) -> frozenset[str]:
        return frozenset(f for f in self.fields if f is not None)


def map_columns(entity: Entity, headers: Sequence[object]) -> ColumnMap:
    """Map one header row (cells as read, any type) to ``entity``'s raw fields."""
    index = header_index(entity)
    seen: set[str] = set()
    fields: list[str | None] = []
    unknown: list[str] = []
    repeated: list[str] = []
    for cell in headers:
        text = "" if cell is None else str(cell)
        name = index.get(fold(text))
        if name is None:
            if text.strip():
                unknown.append(text.strip())
            fields.append(None)
        elif name in seen:
            repeated.append(name)
            fields.append(None)
        else:
            seen.add(name)
            fields.append(None if name in IGNORED else name)
    missing = tuple(f for f in required_fields(entity) if f not in seen)
    return ColumnMap(tuple(fields), tuple(unknown), missing, tuple(repeated))
