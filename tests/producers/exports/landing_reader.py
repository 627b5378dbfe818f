"""A reader of landing-zone files, written from the contract (orion/landing.py), not the exporter.

The tests read the exporter's files back with it: the standard library's csv
(delimiter sniffed) and json, openpyxl for XLSX; headers matched by the
contract's folding rule; blank lines and repeated header lines are not data
rows.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from producers.exports.columns import Columns

_EPOCH = datetime(1970, 1, 1)


def fold(header: str) -> str:
    """The contract's rule: fold case, keep only letters and digits."""
    return "".join(c for c in header.casefold() if c.isalnum())


def field_of_header(cols: Columns) -> dict[str, str]:
    """Folded header -> raw field, for field names and ``orion.headers`` aliases."""
    out = {fold(f): f for f in cols.fields}
    for f, aliases in cols.aliases.items():
        out.update((fold(a), f) for a in aliases)
    return out


@dataclass
class ReadFile:
    headers: list[str]
    rows: list[list[Any]]
    """Data rows only, cells as the format gives them (text, numbers, datetimes)."""
    encoding: str = "utf-8"
    delimiter: str = ""


def decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252"), "cp1252"


def read_csv(data: bytes) -> ReadFile:
    text, encoding = decode(data)
    # The header line alone: csv.Sniffer over a sample of rows gives up on small
    # files with blank lines or quoted values (seen: 2 of 92 files).
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter))
    header, rows = lines[0], []
    for row in lines[1:]:
        if not any(row) or row == header:
            continue
        rows.append(row)
    return ReadFile(header, rows, encoding, dialect.delimiter)


def read_json(data: bytes, lines: bool) -> ReadFile:
    text = data.decode("utf-8")
    if lines:
        objects = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        objects = json.loads(text)
    headers = list(objects[0]) if objects else []
    assert all(list(o) == headers for o in objects), "every object has the same keys"
    return ReadFile(headers, [list(o.values()) for o in objects])


def read_xlsx(data: bytes) -> ReadFile:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = [str(h) for h in next(it)]
    rows = [list(r) for r in it if any(c not in (None, "") for c in r)]
    wb.close()
    return ReadFile(header, rows)


def read_file(path: Path) -> ReadFile:
    data = path.read_bytes()
    suffix = path.suffix
    if suffix == ".csv":
        return read_csv(data)
    if suffix in (".json", ".jsonl"):
        return read_json(data, suffix == ".jsonl")
    if suffix == ".xlsx":
        return read_xlsx(data)
    raise AssertionError(f"not a landing format: {path}")


def _ms(v: Any) -> int:
    if isinstance(v, int):
        return v
    if isinstance(v, datetime):
        return round((v - _EPOCH).total_seconds() * 1000)
    t = datetime.strptime(str(v), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return round(t.timestamp() * 1000)


def records(cols: Columns, read: ReadFile) -> list[dict[str, Any]]:
    """The raw records of a file's rows, by the contract (unknown columns dropped)."""
    fields = field_of_header(cols)
    mapped = [fields.get(fold(h)) for h in read.headers]
    out = []
    for row in read.rows:
        rec: dict[str, Any] = {}
        for f, v in zip(mapped, row, strict=True):
            if f is None:
                continue
            if f in cols.arrays:
                rec[f] = list(v) if isinstance(v, list) else (str(v).split("|") if v else [])
            elif v is None or v == "":
                rec[f] = None
            elif f in cols.instants:
                rec[f] = _ms(v)
            else:
                rec[f] = v
        out.append(rec)
    return out
