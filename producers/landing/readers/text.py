"""Bytes of a text export to text: the encodings sources really use, and binary refused.

Order: a byte-order mark decides (UTF-8, UTF-16); else strict UTF-8; else
cp1252 (Windows exports, what Excel's "CSV" writes on a South African
desktop); else latin-1, which decodes anything, so a file is never refused
for its encoding alone. Binary content (NUL bytes or many control
characters in the first 64 KiB) is refused: it is not an export, whatever
its name says.
"""

from __future__ import annotations

import codecs

from producers.landing.readers.table import FileRejected

__all__ = ["decode"]

_SAMPLE = 64 * 1024
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13}
_MAX_CONTROL_SHARE = 0.01


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of ``data``; FileRejected when it is binary."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[len(codecs.BOM_UTF8) :], "utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16"), "utf-16"
    sample = data[:_SAMPLE]
    if b"\x00" in sample:
        raise FileRejected("BINARY_CONTENT", "NUL bytes in the first 64 KiB: not a text export")
    control = sum(1 for b in sample if b in _CONTROL)
    if control > _MAX_CONTROL_SHARE * len(sample):
        raise FileRejected(
            "BINARY_CONTENT",
            f"{control} control bytes in the first {len(sample)}: not a text export",
        )
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise FileRejected(
            "BAD_ENCODING", f"starts with a {encoding} byte-order mark but is not {encoding}: {e}"
        ) from e
