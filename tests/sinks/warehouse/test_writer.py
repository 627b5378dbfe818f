"""The batch writer against a real PostgreSQL: SCD2, inferred members, upserts, rejects.

Records are real simulator records (from a small run), altered where a test
needs a late change or a bad value; batches go straight to the writer, so
these tests pin the merge rules without Kafka in the way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import cache
from typing import Any

import psycopg2
import pytest

from sinks.warehouse.checksum import table_checksums
from sinks.warehouse.load import Item, Load
from sinks.warehouse.writer import WarehouseWriter
from tests.warehouse_sql.support import clean_events, to_clean

pytestmark = pytest.mark.integration

T0 = dt.datetime(2025, 4, 1, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
INFINITY = dt.datetime.max.replace(tzinfo=dt.UTC)  # how psycopg2 reads 'infinity'


@cache
def _samples() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for stem, _key, exp in clean_events(seed=3, total=3000):
        out.setdefault(stem, to_clean(stem, exp))
    return out


def sample(stem: str, **changes: Any) -> dict[str, Any]:
    rec = dict(_samples()[stem])
    rec.update(changes)
    return rec


def customer(at: dt.datetime, op: str = "UPSERT", **changes: Any) -> dict[str, Any]:
    return sample(
        "crm.customers",
        updated_at=at,
        event_time=at,
        produced_at=at + HOUR,
        operation=op,
        event_id=f"ev-{at.isoformat()}-{op}",
        **changes,
    )


def batch(*records: tuple[str, dict[str, Any]], start: int = 0) -> Load:
    b = Load()
    for i, (stem, rec) in enumerate(records, start):
        b.items.append(Item(stem, "clean." + stem, 0, i, rec))
        b.advance("clean." + stem, 0, i)
    return b


@pytest.fixture
def writer(warehouse_db: str) -> Iterator[WarehouseWriter]:
    w = WarehouseWriter(warehouse_db)
    yield w
    w.close()


def rows(dsn: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, args)
        result = cur.fetchall()
    conn.close()
    return result


def history(dsn: str, customer_id: str) -> list[tuple[Any, ...]]:
    return rows(
        dsn,
        "SELECT valid_from, valid_to, is_current, deleted_at IS NOT NULL, city, status "
        "FROM warehouse.dim_customer WHERE customer_id = %s ORDER BY valid_from",
        customer_id,
    )


def test_late_change_is_inserted_at_its_place_and_facts_follow(
    writer: WarehouseWriter, warehouse_db: str
) -> None:
    cid = sample("crm.customers")["customer_id"]
    sale_at = T0 + 30 * HOUR  # between the late change (T0+24h) and the newest (T0+48h)
    sale = sample("erp.sales", customer_id=cid, event_time=sale_at, produced_at=sale_at)
    writer.write(batch(("crm.customers", customer(T0, city="Alpha"))))
    writer.write(
        batch(
            ("crm.customers", customer(T0 + 48 * HOUR, city="Gamma")), ("erp.sales", sale), start=1
        )
    )
    key_before = rows(warehouse_db, "SELECT customer_key FROM warehouse.fact_sales")[0][0]
    writer.write(batch(("crm.customers", customer(T0 + 24 * HOUR, city="Beta")), start=3))
    assert history(warehouse_db, cid) == [
        (T0, T0 + 24 * HOUR, False, False, "Alpha", "ACTIVE"),
        (T0 + 24 * HOUR, T0 + 48 * HOUR, False, False, "Beta", "ACTIVE"),
        (T0 + 48 * HOUR, INFINITY, True, False, "Gamma", "ACTIVE"),
    ]
    [(key_after, city)] = rows(
        warehouse_db,
        "SELECT f.customer_key, c.city FROM warehouse.fact_sales f "
        "JOIN warehouse.dim_customer c USING (customer_key)",
    )
    assert city == "Beta" and key_after != key_before


def test_unchanged_record_adds_nothing_and_a_late_event_revives_it(
    writer: WarehouseWriter, warehouse_db: str
) -> None:
    cid = sample("crm.customers")["customer_id"]
    writer.write(batch(("crm.customers", customer(T0, status="ACTIVE"))))
    # Out of order: ACTIVE -> INACTIVE -> ACTIVE, newest first. On arrival the
    # newest equals the live version and adds nothing...
    writer.write(batch(("crm.customers", customer(T0 + 48 * HOUR, status="ACTIVE")), start=1))
    assert [h[5] for h in history(warehouse_db, cid)] == ["ACTIVE"]
    # ...until the older change lands between them.
    writer.write(batch(("crm.customers", customer(T0 + 24 * HOUR, status="INACTIVE")), start=2))
    got = history(warehouse_db, cid)
    assert [(h[0], h[5]) for h in got] == [
        (T0, "ACTIVE"),
        (T0 + 24 * HOUR, "INACTIVE"),
        (T0 + 48 * HOUR, "ACTIVE"),
    ]
    assert [h[2] for h in got] == [False, False, True]


def test_delete_closes_the_current_row(writer: WarehouseWriter, warehouse_db: str) -> None:
    cid = sample("crm.customers")["customer_id"]
    writer.write(
        batch(("crm.customers", customer(T0)), ("crm.customers", customer(T0 + HOUR, op="DELETE")))
    )
    [(valid_from, valid_to, current, deleted, _city, _status)] = history(warehouse_db, cid)
    assert (valid_from, valid_to, current, deleted) == (T0, T0 + HOUR, False, True)


def test_inferred_member_is_filled_in_keeping_its_key(
    writer: WarehouseWriter, warehouse_db: str
) -> None:
    sale = sample("erp.sales")
    writer.write(batch(("erp.sales", sale)))
    inferred = rows(
        warehouse_db,
        "SELECT c.customer_key, c.is_inferred, v.vehicle_key, v.is_inferred, d.dealer_key, "
        "d.is_inferred FROM warehouse.fact_sales f "
        "JOIN warehouse.dim_customer c USING (customer_key) "
        "JOIN warehouse.dim_vehicle v USING (vehicle_key) "
        "JOIN warehouse.dim_dealer d USING (dealer_key)",
    )
    assert [r[1::2] for r in inferred] == [(True, True, True)]
    ck, vk, dk = inferred[0][0::2]
    master_at = sale["event_time"] + HOUR  # the master record is newer than the fact
    writer.write(
        batch(
            ("crm.customers", customer(master_at, customer_id=sale["customer_id"])),
            ("erp.vehicles", sample("erp.vehicles", vin=sale["vin"], updated_at=master_at)),
            ("erp.dealers", sample("erp.dealers", dealer_id=sale["dealer_id"])),
            start=1,
        )
    )
    filled = rows(
        warehouse_db,
        "SELECT c.customer_key, c.is_inferred, c.first_name IS NOT NULL, v.vehicle_key, "
        "v.is_inferred, d.dealer_key, d.is_inferred FROM warehouse.fact_sales f "
        "JOIN warehouse.dim_customer c USING (customer_key) "
        "JOIN warehouse.dim_vehicle v USING (vehicle_key) "
        "JOIN warehouse.dim_dealer d USING (dealer_key)",
    )
    assert filled == [(ck, False, True, vk, False, dk, False)]
    assert rows(warehouse_db, "SELECT count(*) FROM warehouse.dim_customer")[0][0] == 1


def test_later_status_change_updates_the_fact_whatever_the_order(
    writer: WarehouseWriter, warehouse_db: str
) -> None:
    pay = sample("finance.payments", payment_status="PENDING")
    done = dict(
        pay,
        payment_status="COMPLETED",
        event_id="later",
        event_time=pay["event_time"] + HOUR,
        produced_at=pay["produced_at"] + HOUR,
    )
    writer.write(batch(("finance.payments", done)))
    writer.write(batch(("finance.payments", pay), start=1))  # the older one arrives late
    assert rows(warehouse_db, "SELECT payment_status FROM warehouse.fact_payments") == [
        ("COMPLETED",)
    ]


def test_replaying_a_batch_changes_nothing(writer: WarehouseWriter, warehouse_db: str) -> None:
    records = [(stem, to_clean(stem, exp)) for stem, _k, exp in clean_events(seed=5, total=3000)]
    writer.write(batch(*records))
    with psycopg2.connect(warehouse_db) as conn:
        before = table_checksums(conn)
        writer.write(batch(*records))
        assert table_checksums(conn) == before
    conn.close()
    assert rows(warehouse_db, "SELECT max(next_offset) FROM metadata.sink_offsets") == [
        (len(records),)
    ]


def test_a_record_that_violates_a_constraint_is_rejected_and_the_rest_loads(
    writer: WarehouseWriter, warehouse_db: str
) -> None:
    good = sample("erp.sales")
    bad = sample("erp.sales", sale_id="SAL-BAD", final_price=good["final_price"] + 1)
    writer.write(batch(("erp.sales", good), ("erp.sales", bad)))
    assert rows(warehouse_db, "SELECT sale_id FROM warehouse.fact_sales") == [(good["sale_id"],)]
    [(offset, reason)] = rows(
        warehouse_db, 'SELECT "offset", reason FROM metadata.rejected_records'
    )
    assert (offset, reason) == (1, "CheckViolation")
    assert rows(warehouse_db, "SELECT next_offset FROM metadata.sink_offsets") == [(2,)]


def test_telemetry_far_apart_creates_the_partitions_of_its_months_only(
    writer: WarehouseWriter, warehouse_db: str
) -> None:
    """Found by the fuzz test: one reading dated 9999 beside one of 2025 had the load create
    every monthly partition between them (~95,000) in one transaction, a stall."""
    late = dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC)
    first = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    readings = [
        sample("iot.telemetry", telemetry_id=f"TEL-FAR-{i}", event_time=at, event_id=f"e-{i}")
        for i, at in enumerate((T0, late, first))
    ]
    writer.write(batch(*(("iot.telemetry", r) for r in readings)))
    [(n,)] = rows(warehouse_db, "SELECT count(*) FROM warehouse.fact_telemetry")
    assert n == 3
    partitions = rows(warehouse_db, "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                                    "'warehouse.fact_telemetry'::regclass")  # fmt: skip
    assert partitions[0][0] <= 6  # each month and the next one
