"""Rows -> JSON (an array of objects) or JSON Lines bytes, UTF-8.

Who calls it: the writer, once per file. Values stay what they are in the
raw record (strings, null, the array as a JSON list); instants are ISO-8601
UTC text, or epoch milliseconds when the style says so (the contract allows
both in JSON). Keys are the style's headers, extra keys after the fields.
Key order follows the schema, so the bytes depend only on the rows and the
style.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from producers.exports.columns import Columns, iso
from producers.exports.plan import Format
from producers.exports.style import FileStyle, extra_cells

__all__ = ["json_bytes"]


def _objects(
    cols: Columns, rows: Sequence[Mapping[str, Any]], style: FileStyle
) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        obj: dict[str, Any] = {}
        for f, key in zip(cols.fields, style.headers, strict=True):
            v = row.get(f)
            if v is not None and f in cols.instants and not style.epoch_ms:
                v = iso(v)
            obj[key] = list(v) if f in cols.arrays and v is not None else v
        if style.extras:
            cells = ["" if v is None else str(v) for v in obj.values()]
            obj.update(zip(style.extras, extra_cells(style, cells), strict=True))
        out.append(obj)
    return out


def json_bytes(
    cols: Columns, rows: Sequence[Mapping[str, Any]], style: FileStyle, fmt: Format
) -> bytes:
    """The file's bytes; object ``i`` (array element or non-blank line) is ``rows[i]``."""
    objects = _objects(cols, rows, style)
    if fmt is Format.JSON:
        return (json.dumps(objects, ensure_ascii=False, indent=style.indent) + "\n").encode()
    nl = style.newline
    lines = []
    for i, obj in enumerate(objects):
        if i in style.blank_before:
            lines.append("")
        lines.append(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
    if len(objects) in style.blank_before:
        lines.append("")
    return (nl.join(lines) + nl).encode()
