"""JSON exports: an array of objects (``.json``) or one object per line (``.jsonl``).

Objects need not share keys: the header row is every key in the order first
seen, and a key an object lacks is a null cell. A ``.json`` file is parsed
whole (the standard library has no streaming parser; a 50 MB array is
~10x that in memory); JSON Lines stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from producers.landing.readers.table import BadRow, FileRejected, ReadOptions, SourceRow, Table
from producers.landing.readers.text import decode

__all__ = ["read_array", "read_lines"]


def read_array(data: bytes, options: ReadOptions) -> Table:
    text, encoding = decode(data)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise FileRejected("MALFORMED_JSON", f"line {e.lineno} column {e.colno}: {e.msg}") from e
    except (RecursionError, ValueError) as e:  # nested too deep; an int of 4,300+ digits
        raise FileRejected("MALFORMED_JSON", _unreadable(e)) from e
    if not isinstance(doc, list):
        raise FileRejected(
            "MALFORMED_JSON", f"the document is a JSON {type(doc).__name__}, not an array"
        )
    numbered = ((i + 1, obj) for i, obj in enumerate(doc))
    return _table(list(numbered), {"encoding": encoding, "numbering": "array element"})


def read_lines(data: bytes, options: ReadOptions) -> Table:
    text, encoding = decode(data)
    parsed: list[tuple[int, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            parsed.append((n, json.loads(line)))
        except json.JSONDecodeError as e:
            parsed.append((n, BadRow(n, f"not JSON: {e.msg} at column {e.colno}")))
        except (RecursionError, ValueError) as e:
            parsed.append((n, BadRow(n, f"not JSON: {_unreadable(e)}")))
    return _table(parsed, {"encoding": encoding, "numbering": "line"})


def _unreadable(e: Exception) -> str:
    """Why valid-looking JSON cannot be read: the standard parser raises RecursionError
    past ~1,000 levels of nesting and ValueError for an int of more than 4,300 digits;
    neither is a JSONDecodeError, and both stopped the ingester on the file at every pass
    (found by the fuzz test)."""
    if isinstance(e, RecursionError):
        return "nested deeper than the JSON reader follows"
    return str(e).split(";")[0]


def _table(objects: list[tuple[int, Any]], details: dict[str, str]) -> Table:
    keys: dict[str, None] = {}
    for _, obj in objects:
        if isinstance(obj, dict):
            keys.update(dict.fromkeys(str(k) for k in obj))
    headers = tuple(keys)
    if not headers:
        raise FileRejected("NO_ROWS", "no JSON object in the file: nothing names a column")
    return Table(headers, _rows(objects, headers), details)


def _rows(objects: list[tuple[int, Any]], headers: tuple[str, ...]) -> Iterator[SourceRow | BadRow]:
    for n, obj in objects:
        if isinstance(obj, BadRow):
            yield obj
        elif not isinstance(obj, dict):
            yield BadRow(n, f"a JSON {type(obj).__name__}, not an object")
        else:
            yield SourceRow(n, tuple(obj.get(h) for h in headers))
