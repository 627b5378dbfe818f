"""Repairable defects repair to exactly the expected value; rejects carry their reason."""

from __future__ import annotations

import re
from datetime import date

from orion.reasons import DefectKind, Outcome, Reason
from producers.simulation import SimEvent
from producers.topics import TOPICS


def _money(s: str) -> str:
    s = re.sub(r"\s", "", s.removeprefix("ZAR").removeprefix("R"))
    s = re.sub(r"^(ZAR|R)", "", s)
    if "," in s and "." in s:
        s = s.replace(",", "")
    elif "," in s:
        s = s.replace(",", ".")
    assert re.fullmatch(r"\d+(\.\d{1,2})?", s), s
    rands, _, cents = s.partition(".")
    return f"{int(rands)}.{cents.ljust(2, '0')}"


def _date(s: str) -> str:
    s = s.split("T")[0].split(" ")[0]
    if m := re.fullmatch(r"(\d{4})[-/](\d{2})[-/](\d{2})", s):
        y, mo, d = m.groups()
    elif m := re.fullmatch(r"(\d{2})[-/](\d{2})[-/](\d{4})", s):
        d, mo, y = m.groups()
    else:
        raise ValueError(s)
    return date(int(y), int(mo), int(d)).isoformat()


def _changed(e: SimEvent) -> list[str]:
    exp = e.ledger.expected
    assert e.value is not None and exp is not None
    return [
        f
        for f in TOPICS[e.topic].business
        if e.value[f] != exp[f] and not isinstance(exp[f], int | float)
    ]


def test_repairs_are_exact(events: list[SimEvent]) -> None:
    seen = set()
    for e in events:
        if e.ledger.outcome is not Outcome.REPAIR:
            continue
        (kind,) = e.ledger.defects
        (field,) = _changed(e)
        raw, want = e.value[field], e.ledger.expected[field]  # type: ignore[index]
        if kind is DefectKind.CURRENCY_FORMAT:
            assert _money(raw) == want
        elif kind is DefectKind.DATE_FORMAT:
            assert _date(raw) == want
        elif kind is DefectKind.GARBAGE_SUFFIX:
            assert raw == want + "??"
        seen.add(kind)
    assert seen == {
        DefectKind.CURRENCY_FORMAT,
        DefectKind.DATE_FORMAT,
        DefectKind.GARBAGE_SUFFIX,
        DefectKind.VIN_FORMAT,
    }


def test_rejects_carry_their_reason(events: list[SimEvent]) -> None:
    for e in events:
        if e.ledger.outcome is not Outcome.REJECT or e.value is None:
            continue
        (kind,) = e.ledger.defects
        r = e.ledger.reason
        assert r is not None
        spec = TOPICS[e.topic]
        v = e.value
        if kind is DefectKind.NULL_REQUIRED:
            assert r is Reason.MISSING_REQUIRED_FIELD
            assert any(v[f] is None for f in spec.required)
        elif kind is DefectKind.IMPOSSIBLE_DATE:
            bad = [v[f] for f in spec.dates if v[f] is not None]
            assert any(_raises(_date, b) for b in bad)
        elif kind is DefectKind.NEGATIVE_AMOUNT:
            assert any(v[f].startswith("-") for f in spec.money)
        elif kind is DefectKind.IMPLAUSIBLE_AMOUNT:
            assert any(float(v[f]) > 20_000_000 for f in spec.money)
        elif kind is DefectKind.INVALID_EMAIL:
            email = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
            assert not all(re.fullmatch(email, v[f]) for f in spec.emails)
        elif kind is DefectKind.INVALID_PHONE:
            assert not all(
                re.fullmatch(r"(\+27|0)[1-8]\d{8}", re.sub(r"[\s-]", "", v[f])) for f in spec.phones
            )
        elif kind is DefectKind.OUT_OF_RANGE and r is Reason.OUT_OF_RANGE:
            assert any(v[f] is not None and float(v[f]) not in _RANGES[f] for f, _ in spec.ranges)


class _Range:
    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi

    def __contains__(self, x: float) -> bool:
        return self.lo <= x <= self.hi


_RANGES = {
    "speed_kmh": _Range(0, 350),
    "fuel_level_pct": _Range(0, 100),
    "engine_temp_c": _Range(-50, 250),
    "model_year": _Range(1980, 2100),
}


def _raises(fn: object, arg: str) -> bool:
    try:
        fn(arg)  # type: ignore[operator]
    except ValueError:
        return True
    return False


def test_duplicates_point_at_their_first_copy(events: list[SimEvent]) -> None:
    by_id = {e.ledger.event_id: e for e in events if not e.ledger.defects}
    dups = [e for e in events if e.ledger.outcome is Outcome.DUPLICATE]
    assert dups
    for e in dups:
        first = by_id[e.ledger.duplicate_of]  # type: ignore[index]
        assert first.ledger.seq < e.ledger.seq and first.topic == e.topic and first.key == e.key
        assert e.value is not None and first.value is not None
        if DefectKind.EXACT_RESEND in e.ledger.defects:
            assert e.value is first.value and e.ledger.event_id == first.ledger.event_id
        else:
            strip = {"event_id", "produced_at"}
            assert {k: v for k, v in e.value.items() if k not in strip} == {
                k: v for k, v in first.value.items() if k not in strip
            }
            assert e.ledger.event_id != first.ledger.event_id
