"""Ledger lines: format and round trip."""

from __future__ import annotations

import json
from pathlib import Path

from producers.ledger import LedgerWriter, read_ledger
from producers.simulation import SimEvent


def test_round_trip_and_format(tmp_path: Path, events: list[SimEvent]) -> None:
    path = tmp_path / "ledger.jsonl"
    sample = events[:2000]
    with LedgerWriter(path) as writer:
        for e in sample:
            writer.write(e.ledger)
    lines = path.read_text().splitlines()
    assert len(lines) == len(sample)
    for line in lines[:200]:
        d = json.loads(line)
        assert line == json.dumps(d, sort_keys=True, separators=(",", ":"))
        assert set(d) == {
            "seq",
            "event_id",
            "topic",
            "key",
            "defects",
            "outcome",
            "reason",
            "duplicate_of",
            "expected",
        }
    back = list(read_ledger(path))
    assert back == [e.ledger for e in sample]
    assert [r.to_json() for r in back] == lines


def test_expected_formats(events: list[SimEvent]) -> None:
    e = next(ev for ev in events if ev.topic == "raw.erp.sales" and ev.ledger.outcome == "ACCEPT")
    exp = e.ledger.expected
    assert exp is not None
    assert exp["event_id"] == e.ledger.event_id
    assert exp["event_time"].endswith("Z") and len(exp["event_time"]) == 24
    assert len(exp["sale_date"]) == 10
    assert exp["final_price"].count(".") == 1 and len(exp["final_price"].split(".")[1]) == 2
