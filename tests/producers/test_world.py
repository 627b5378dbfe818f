"""World consistency: references resolve, orphans never do, behaviour emerges."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from orion.reasons import DefectKind, Outcome
from orion.vin import is_valid_vin
from producers.simulation import SimEvent
from producers.topics import TOPICS, RefKind

ID_FIELD = {
    RefKind.DEALER: ("raw.erp.dealers", "dealer_id"),
    RefKind.CUSTOMER: ("raw.crm.customers", "customer_id"),
    RefKind.VEHICLE: ("raw.erp.vehicles", "vin"),
    RefKind.SUPPLIER: ("raw.supplier.suppliers", "supplier_id"),
    RefKind.SALE: ("raw.erp.sales", "sale_id"),
}
OK = (Outcome.ACCEPT, Outcome.REPAIR)


def test_references_resolve_to_earlier_clean_entities(events: list[SimEvent]) -> None:
    known: dict[RefKind, set[str]] = defaultdict(set)
    deleted: set[str] = set()
    checked = 0
    for e in events:
        exp = e.ledger.expected
        if e.ledger.outcome not in OK or exp is None:
            continue
        for field, kind in TOPICS[e.topic].refs:
            if field == "vin" and e.topic in ("raw.erp.vehicles",):
                continue
            assert exp[field] in known[kind], (e.ledger.seq, e.topic, field, exp[field])
            assert exp[field] not in deleted
            checked += 1
        for kind, (topic, field) in ID_FIELD.items():
            if e.topic == topic:
                if exp.get("operation") == "DELETE":
                    deleted.add(exp[field])
                elif kind is not RefKind.SALE or exp["sale_status"] == "COMPLETED":
                    known[kind].add(exp[field])
    assert checked > 10_000


def test_orphans_never_resolve(events: list[SimEvent]) -> None:
    every_id: set[str] = set()
    for e in events:
        for topic, field in ID_FIELD.values():
            if e.topic == topic and e.value is not None and e.value[field] is not None:
                every_id.add(e.value[field])
    orphans = [e for e in events if DefectKind.ORPHAN_REFERENCE in e.ledger.defects]
    assert len(orphans) > 20
    for e in orphans:
        assert e.ledger.outcome is Outcome.REJECT and e.ledger.reason == "UNKNOWN_REFERENCE"
        assert e.value is not None
        refs = [e.value[f] for f, _ in TOPICS[e.topic].refs]
        assert any(r not in every_id for r in refs)


def test_vins_valid_and_bad_vins_really_bad(events: list[SimEvent]) -> None:
    vins = [
        e.ledger.expected["vin"]
        for e in events
        if e.topic == "raw.erp.vehicles" and e.ledger.expected
    ]
    assert len(vins) > 500 and all(is_valid_vin(v) for v in vins)
    bad = [e for e in events if DefectKind.VIN_INVALID in e.ledger.defects]
    fixable = [e for e in events if DefectKind.VIN_FORMAT in e.ledger.defects]
    assert bad and fixable
    for e in bad:
        assert e.value is not None
        assert not any(is_valid_vin(_repair_vin(e.value[f])) for f in TOPICS[e.topic].vins)
    for e in fixable:
        assert e.value is not None and e.ledger.expected is not None
        for f in TOPICS[e.topic].vins:
            assert _repair_vin(e.value[f]) == e.ledger.expected[f]


def _repair_vin(v: str) -> str:
    v = v.strip().upper()
    while len(v) > 17 and v.endswith("X"):
        v = v[:-1]
    return v


def test_master_changes_exercise_scd2(events: list[SimEvent]) -> None:
    versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if e.topic == "raw.crm.customers" and e.ledger.expected:
            versions[e.key].append(e.ledger.expected)
    moved = [v for v in versions.values() if len({x["province"] for x in v}) > 1]
    inactive = [v for v in versions.values() if any(x["status"] == "INACTIVE" for x in v)]
    deletes = [v for v in versions.values() if v[-1]["operation"] == "DELETE"]
    assert moved and inactive and deletes
    ooo = [e for e in events if DefectKind.OUT_OF_ORDER in e.ledger.defects]
    assert ooo
    last_seen: dict[str, int] = {}
    late_masters = 0
    for e in events:
        if e.value is None or not TOPICS[e.topic].master:
            continue
        if DefectKind.OUT_OF_ORDER in e.ledger.defects:
            assert e.value["updated_at"] < last_seen[e.key]
            late_masters += 1
        last_seen[e.key] = max(last_seen.get(e.key, 0), e.value["updated_at"])
    assert late_masters == len(ooo)


def test_payments_change_status_and_procurement_misbehaves(events: list[SimEvent]) -> None:
    by_payment: dict[str, list[str]] = defaultdict(list)
    statuses: dict[str, set[str]] = defaultdict(set)
    for e in events:
        exp = e.ledger.expected
        if exp and e.topic == "raw.finance.payments" and e.ledger.outcome in OK:
            by_payment[exp["payment_id"]].append(exp["payment_status"])
        if exp and e.topic == "raw.supplier.procurement":
            statuses[exp["supplier_id"]].add(exp["status"])
    changed = [s for s in by_payment.values() if len(s) > 1]
    assert changed and all(s[0] == "PENDING" for s in changed)
    assert any(s[-1] == "FAILED" for s in changed)
    all_status = set().union(*statuses.values())
    assert {"ORDERED", "DELIVERED", "DELAYED", "CANCELLED"} <= all_status


def test_stock_runs_low_and_out(events: list[SimEvent]) -> None:
    status = {
        e.ledger.expected["stock_status"]
        for e in events
        if e.topic == "raw.erp.inventory" and e.ledger.expected
    }
    assert status == {"IN_STOCK", "LOW_STOCK", "OUT_OF_STOCK"}


def test_anomalies_precede_service_events(events: list[SimEvent]) -> None:
    anomalous: set[str] = set()
    readers: set[str] = set()
    serviced_after_anomaly = serviced_other = 0
    for e in events:
        exp = e.ledger.expected
        if not exp:
            continue
        if e.topic == "raw.iot.telemetry":
            readers.add(exp["vin"])
            if exp["engine_temp_c"] > 110 or exp["error_codes"]:
                anomalous.add(exp["vin"])
        elif e.topic == "raw.erp.service_events" and exp["vin"] in readers:
            if exp["vin"] in anomalous:
                serviced_after_anomaly += 1
            else:
                serviced_other += 1
    rate_anomalous = serviced_after_anomaly / max(1, len(anomalous))
    rate_other = serviced_other / max(1, len(readers - anomalous))
    assert rate_anomalous > 3 * rate_other
