"""The file run's ledger: the ids the ingester derives, duplicates at their first copies' ids."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from orion.landing import row_event_id
from orion.reasons import DefectKind, Outcome
from producers.exports.columns import columns_of, decimal_comma
from producers.exports.ledger import IdRewriter
from producers.exports.plan import PLANS
from producers.ledger import LedgerRecord
from tests.producers.exports.conftest import Export
from tests.producers.exports.landing_reader import read_file

K = DefectKind


def test_every_id_is_the_one_the_ingester_derives_from_the_files(exported: Export) -> None:
    by_topic: dict[str, list[LedgerRecord]] = defaultdict(list)
    for rec in exported.ledger:
        by_topic[rec.topic].append(rec)
    for stem in PLANS:
        derived = [
            row_event_id(hashlib.sha256(p.read_bytes()).hexdigest(), i)
            for p in exported.files(stem)
            for i in range(len(read_file(p).rows))
        ]
        recs = by_topic["raw." + stem]
        assert [r.event_id for r in recs] == derived, stem
        for r in recs:
            assert r.expected is None or r.expected["event_id"] == r.event_id


def test_poison_is_left_out_and_everything_else_is_in_once(exported: Export) -> None:
    ours = exported.ledger
    assert not any(K.POISON in r.defects for r in ours)
    sim = [e.ledger for e in exported.events]
    poison = {r.seq for r in sim if K.POISON in r.defects}
    assert poison, "the run has poison to leave out"
    assert sorted(r.seq for r in ours) == sorted(r.seq for r in sim if r.seq not in poison)
    assert len({r.event_id for r in ours}) == len(ours)


def test_duplicates_point_at_the_first_copys_derived_id(exported: Export) -> None:
    sim = {e.ledger.seq: e.ledger for e in exported.events}
    derived_of_source: dict[str, str] = {}
    for r in sorted(exported.ledger, key=lambda r: r.seq):
        derived_of_source.setdefault(sim[r.seq].event_id, r.event_id)
    ours = {r.event_id: r for r in exported.ledger}
    dups = [r for r in exported.ledger if r.outcome is Outcome.DUPLICATE]
    assert len(dups) > 20
    for r in dups:
        original = sim[r.seq]
        assert r.duplicate_of == derived_of_source[original.duplicate_of or ""]
        first = ours[r.duplicate_of]
        assert first.seq < r.seq and first.topic == r.topic and first.key == r.key


def test_an_exact_resend_becomes_a_business_duplicate(exported: Export) -> None:
    sim = {e.ledger.seq: e.ledger for e in exported.events}
    resent = [r for r in exported.ledger if K.EXACT_RESEND in sim[r.seq].defects]
    assert resent
    assert not any(K.EXACT_RESEND in r.defects for r in exported.ledger)
    for r in resent:
        assert r.defects == (K.BUSINESS_DUPLICATE,) and r.outcome is Outcome.DUPLICATE


def test_a_decimal_comma_turns_an_accept_into_a_repair_and_nothing_else_changes(
    exported: Export,
) -> None:
    sim = {e.ledger.seq: e for e in exported.events}
    commas = 0
    for r in exported.ledger:
        ev = sim[r.seq]
        was = ev.ledger
        stem = r.topic.removeprefix("raw.")
        comma = PLANS[stem].decimal_comma and any(
            decimal_comma((ev.value or {}).get(m)) is not None for m in columns_of(stem).money
        )
        if comma and was.outcome is Outcome.ACCEPT:
            commas += 1
            assert (r.outcome, r.defects) == (Outcome.REPAIR, (*was.defects, K.CURRENCY_FORMAT))
        elif K.EXACT_RESEND not in was.defects:
            assert (r.outcome, r.defects) == (was.outcome, was.defects)
        assert (r.reason, r.key, r.topic) == (was.reason, was.key, was.topic)
        if was.expected is not None:
            assert r.expected == {**was.expected, "event_id": r.event_id}
    assert commas > 100


def _rec(
    seq: int, eid: str, defects: tuple[DefectKind, ...] = (), dup: str | None = None
) -> LedgerRecord:
    outcome = Outcome.DUPLICATE if dup else Outcome.ACCEPT
    expected = None if dup else {"event_id": eid, "x": str(seq)}
    return LedgerRecord(seq, eid, "raw.erp.sales", "S1", defects, outcome, None, dup, expected)


def test_the_rewrite_builds_new_records_across_files() -> None:
    ids = IdRewriter()
    first = [_rec(0, "a"), _rec(1, "a", (K.EXACT_RESEND,), "a"), _rec(2, "b")]
    before = [r.to_dict() for r in first]
    out1 = ids.rewrite(first, "AB" * 32)
    assert [r.to_dict() for r in first] == before, "the simulator's records are untouched"
    a, resend, b = out1
    assert a.event_id == row_event_id("ab" * 32, 0) and a.expected == {
        "event_id": a.event_id,
        "x": "0",
    }
    assert resend.event_id == row_event_id("ab" * 32, 1) and resend.duplicate_of == a.event_id
    assert resend.defects == (K.BUSINESS_DUPLICATE,) and resend.outcome is Outcome.DUPLICATE
    (later,) = ids.rewrite([_rec(3, "c", (K.BUSINESS_DUPLICATE,), "b")], "cd" * 32)
    assert later.event_id == row_event_id("cd" * 32, 0) and later.duplicate_of == b.event_id
    (again,) = ids.rewrite([_rec(4, "a", (K.EXACT_RESEND,), "a")], "ef" * 32)
    assert again.duplicate_of == a.event_id
