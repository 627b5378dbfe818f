"""Clean records' provenance headers read back as written."""

from __future__ import annotations

from orion.provenance import Provenance, clean_headers, provenance


def test_headers_round_trip_and_missing_ones_give_none() -> None:
    headers = clean_headers("raw.erp.sales", 2, 41, 1740816900000, ["money.format", "text.suffix"])
    as_read = [(k, v if isinstance(v, bytes) else None) for k, v in headers]
    assert provenance(as_read) == Provenance(
        "raw.erp.sales", 2, 41, 1740816900000, ("money.format", "text.suffix")
    )
    bare = [(k, v if isinstance(v, bytes) else None) for k, v in clean_headers("t", 0, 0, None, [])]
    assert provenance(bare) == Provenance("t", 0, 0, None, ())
    assert provenance(None) is None
    assert provenance([("orion.source.topic", b"t")]) is None
