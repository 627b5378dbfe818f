"""A seeded simulator run of 50,000 events through the loader, checked against the ledger.

One module-scoped run loads the same clean topics twice: into database A by
a loader process killed with SIGKILL five times and restarted, and into
database B by an uninterrupted in-process loader with other batch sizes.
The tests then compare A with B (identical warehouse), B with the ledger
(facts, totals, SCD2 histories, point-in-time keys) and B with itself after a
full replay.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg2
import pytest
from confluent_kafka.admin import AdminClient

from orion.settings import OrionSettings
from sinks.warehouse.checksum import table_checksums
from sinks.warehouse.configuration import WarehouseSinkConfig
from sinks.warehouse.tables import DIMENSIONS, FACTS
from tests.sinks.warehouse.kafka_support import (
    LoaderProcess,
    create_clean_topics,
    end_offsets,
    loader_thread,
    publish,
    stored_offsets,
    wait_loaded,
)
from tests.warehouse_sql.support import clean_events, fresh_database, migrated, to_clean

pytestmark = pytest.mark.integration

SEED = 20260228
EVENTS = 50_000
KILLS = 5


@dataclass
class Run:
    events: list[tuple[str, str, dict[str, Any]]]
    prefix: str
    topics: list[str]
    ends: dict[tuple[str, int], int]
    killed_db: str
    clean_db: str


def run_in_process(
    settings: OrionSettings, dsn: str, prefix: str, topics: list[str], max_records: int
) -> tuple[threading.Event, threading.Thread, list[Any]]:
    config = WarehouseSinkConfig(
        topics=tuple(topics),
        topic_prefix=prefix,
        group=f"g-{uuid.uuid4().hex[:8]}",
        max_records=max_records,
        max_wait_s=0.5,
    )
    return loader_thread(settings, dsn, config)


@pytest.fixture(scope="module")
def run(settings: OrionSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    topics = create_clean_topics(settings, prefix)
    events = clean_events(SEED, EVENTS)
    publish(settings, prefix, events)
    ends = end_offsets(settings, topics)
    logs = tmp_path_factory.mktemp("loader")
    try:
        with fresh_database(settings) as killed_db, fresh_database(settings) as clean_db:
            migrated(killed_db)
            migrated(clean_db)
            stop, thread, errors = run_in_process(settings, clean_db, prefix, topics, 5000)
            env = {"ORION_DATABASE_URL": killed_db, "ORION_TOPIC_PREFIX": prefix}
            args = (
                "--max-records",
                "700",
                "--max-wait",
                "0.3",
                "--group",
                f"g-{uuid.uuid4().hex[:8]}",
                "--instance-id",
                "loader-a",
            )
            total = sum(ends.values())
            for k in range(KILLS):
                proc = LoaderProcess(logs / f"loader-{k}.log", env, *args)
                target = total * (k + 1) // (KILLS + 2)
                deadline = time.monotonic() + 90
                while sum(stored_offsets(killed_db).values()) < target:
                    assert proc.alive(), proc.output()
                    assert time.monotonic() < deadline, "loader made no progress"
                    time.sleep(0.05)
                proc.kill()
            proc = LoaderProcess(logs / "loader-final.log", env, *args)
            wait_loaded(killed_db, ends, 120, proc.alive)
            assert proc.terminate() == 0, proc.output()
            wait_loaded(clean_db, ends, 120, thread.is_alive)
            stop.set()
            thread.join(60)
            assert not errors, errors
            yield Run(events, prefix, topics, ends, killed_db, clean_db)
    finally:
        admin = AdminClient(settings.kafka_client_config())
        for f in admin.delete_topics(topics).values():
            f.result(timeout=60)


def query(dsn: str, text: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(text, args)
        out = cur.fetchall()
    conn.close()
    return out


# -- the ledger's view of the world ------------------------------------------------
def expected_facts(run: Run, stem: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The newest clean record per natural key (ties: smallest event_id)."""
    spec = FACTS[stem]
    best: dict[tuple[Any, ...], dict[str, Any]] = {}
    for s, _key, exp in run.events:
        if s != stem:
            continue
        rec = to_clean(stem, exp)
        nk = tuple(rec[c] for c in spec.natural_key)
        old = best.get(nk)
        rank = (rec["event_time"], rec["produced_at"])
        if (
            old is None
            or rank > (old["event_time"], old["produced_at"])
            or (
                rank == (old["event_time"], old["produced_at"])
                and rec["event_id"] < old["event_id"]
            )
        ):
            best[nk] = rec
    return best


def expected_history(run: Run, dim: str) -> dict[str, list[tuple[Any, ...]]]:
    """Versions per key from the ledger: (valid_from, valid_to|None, deleted, attributes)."""
    spec = DIMENSIONS[dim]
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s, _key, exp in run.events:
        if s == spec.stem:
            rec = to_clean(s, exp)
            events[rec[spec.key]].append(rec)
    out: dict[str, list[tuple[Any, ...]]] = {}
    for key, evs in events.items():
        evs.sort(key=lambda r: r["updated_at"])
        times = [r["updated_at"] for r in evs]
        assert len(times) == len(set(times)), f"{key}: two changes at one instant"
        versions: list[list[Any]] = []
        live: tuple[Any, ...] | None = None
        for r in evs:
            attrs = tuple(_norm(r[a]) for a in spec.attributes)
            if r["operation"] == "UPSERT":
                if live is None or live != attrs:
                    if live is not None:
                        versions[-1][1] = r["updated_at"]
                    versions.append([r["updated_at"], None, False, attrs])
                    live = attrs
            elif live is not None:
                versions[-1][1:3] = [r["updated_at"], True]
                live = None
        out[key] = [tuple(v) for v in versions]
    return out


def _norm(v: Any) -> Any:
    return Decimal(repr(v)) if isinstance(v, float) else v


def actual_history(dsn: str, dim: str) -> dict[str, list[tuple[Any, ...]]]:
    spec = DIMENSIONS[dim]
    cols = ", ".join(spec.attributes)
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in query(
        dsn,
        f"SELECT {spec.key}, valid_from, valid_to, is_current, deleted_at, {cols} "
        f"FROM warehouse.{spec.table} ORDER BY {spec.key}, valid_from",
    ):
        key, vf, vt, current, deleted_at, *attrs = row
        infinite = vt.year == 9999
        assert current == (infinite and deleted_at is None)
        assert deleted_at in (None, vt)
        out[key].append(
            (vf, None if infinite else vt, deleted_at is not None, tuple(_norm(a) for a in attrs))
        )
    return dict(out)


# -- the tests ----------------------------------------------------------------------
def test_killed_and_restarted_loader_gives_the_identical_warehouse(run: Run) -> None:
    with psycopg2.connect(run.killed_db) as a, psycopg2.connect(run.clean_db) as b:
        assert table_checksums(a, canonical=True) == table_checksums(b, canonical=True)
    a.close()
    b.close()
    assert stored_offsets(run.killed_db) == run.ends


def test_every_row_names_the_committed_load_that_wrote_it(run: Run) -> None:
    """load_batch_id -> metadata.load_batches: what end-to-end latency is measured from."""
    for dsn in (run.killed_db, run.clean_db):
        batches = query(dsn, "SELECT count(*), sum(records) FROM metadata.load_batches")[0]
        assert batches[0] > 1 and batches[1] >= sum(run.ends.values()) - len(run.ends), batches
        tables = [d.table for d in DIMENSIONS.values()] + [f.table for f in FACTS.values()]
        for table in tables:
            rows, orphans, started_late = query(
                dsn,
                f"SELECT count(*), count(*) FILTER (WHERE b.batch_id IS NULL), "
                f"count(*) FILTER (WHERE b.committed_at < b.started_at) "
                f"FROM warehouse.{table} t "
                f"LEFT JOIN metadata.load_batches b ON b.batch_id = t.load_batch_id",
            )[0]
            assert rows > 0, table
            assert orphans == 0, f"{table}: {orphans} of {rows} rows name no committed load"
            assert started_late == 0, table


def test_every_fact_equals_the_ledger(run: Run) -> None:
    for stem, spec in FACTS.items():
        expected = expected_facts(run, stem)
        cols = (*spec.business, "event_id", "event_time", "produced_at")
        got = {
            tuple(r[cols.index(c)] for c in spec.natural_key): r
            for r in query(run.clean_db, f"SELECT {', '.join(cols)} FROM warehouse.{spec.table}")
        }
        assert len(got) == len(expected), stem
        for nk, rec in expected.items():
            want = tuple(_norm(rec[c]) for c in cols)
            assert tuple(_norm(v) for v in got[nk]) == want, (stem, nk)


def test_totals_in_the_analytics_views_equal_the_ledger(run: Run) -> None:
    sales = expected_facts(run, "erp.sales").values()
    done = [s for s in sales if s["sale_status"] == "COMPLETED"]
    revenue = sum((s["final_price"] for s in done), Decimal(0))
    discounts = sum((s["discount_amount"] for s in done), Decimal(0))
    [(got_revenue, got_sales)] = query(
        run.clean_db, "SELECT sum(revenue), sum(sales) FROM analytics.revenue_by_year"
    )
    assert (got_revenue, got_sales) == (revenue, len(done))
    assert query(run.clean_db, "SELECT sum(revenue) FROM analytics.revenue_by_dealer") == [
        (revenue,)
    ]
    [(lost, average)] = query(
        run.clean_db,
        "SELECT revenue_lost_to_discounts, average_discount_per_sale FROM analytics.discounts",
    )
    assert lost == discounts
    assert average == (discounts / len(done)).quantize(Decimal("0.01"))
    payments = list(expected_facts(run, "finance.payments").values())
    shares = {
        status: (n, Decimal(100 * n / len(payments)).quantize(Decimal("0.01")))
        for status in ("COMPLETED", "FAILED", "PENDING")
        if (n := sum(1 for p in payments if p["payment_status"] == status))
    }
    got_shares = {
        s: (n, pct)
        for s, n, pct in query(
            run.clean_db,
            "SELECT payment_status, payments, share_pct FROM analytics.payment_status_share",
        )
    }
    assert got_shares == shares
    commissions = sum(
        (c["commission_amount"] for c in expected_facts(run, "finance.commissions").values()),
        Decimal(0),
    )
    assert query(
        run.clean_db, "SELECT sum(commission_total) FROM analytics.dealer_commissions"
    ) == [(commissions,)]


def test_scd2_history_equals_the_ledger(run: Run) -> None:
    for dim in ("customer", "vehicle"):
        expected = expected_history(run, dim)
        actual = actual_history(run.clean_db, dim)
        assert actual.keys() == expected.keys(), dim
        changed = [k for k in expected if actual[k] != expected[k]]
        assert not changed, (dim, changed[:3], [actual[k] for k in changed[:1]])
        assert sum(len(v) > 1 for v in expected.values()) > 100  # real history was tested


def test_scd2_invariants(run: Run) -> None:
    for dim in ("customer", "vehicle"):
        spec = DIMENSIONS[dim]
        for label, text in {
            "overlap or gap": f"""
                SELECT count(*) FROM (
                    SELECT valid_to, deleted_at,
                           lead(valid_from) OVER (
                               PARTITION BY {spec.key} ORDER BY valid_from) AS nxt
                    FROM warehouse.{spec.table}) x
                WHERE nxt IS NOT NULL
                  AND (nxt < valid_to OR (nxt > valid_to AND deleted_at IS NULL))""",
            "current rows": f"""
                SELECT count(*) FROM (SELECT {spec.key} FROM warehouse.{spec.table}
                GROUP BY {spec.key}
                HAVING count(*) FILTER (WHERE is_current) <> 1
                   AND bool_and(deleted_at IS NULL OR valid_to < 'infinity') AND
                   max(deleted_at) IS NULL) y""",
            "inferred left": f"SELECT count(*) FROM warehouse.{spec.table} WHERE is_inferred",
        }.items():
            assert query(run.clean_db, text) == [(0,)], (dim, label)


def test_facts_point_at_the_version_valid_at_their_time(run: Run) -> None:
    for dim in ("customer", "vehicle"):
        spec = DIMENSIONS[dim]
        versions: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
        for key, vf, sk in query(
            run.clean_db,
            f"SELECT {spec.key}, valid_from, {spec.surrogate} FROM warehouse.{spec.table} "
            f"ORDER BY {spec.key}, valid_from",
        ):
            versions[key].append((vf, sk))
        checked = 0
        for fact in FACTS.values():
            for ref in fact.refs:
                if ref.dim != dim:
                    continue
                for bk, at, sk in query(
                    run.clean_db,
                    f"SELECT {ref.column}, event_time, {spec.surrogate} "
                    f"FROM warehouse.{fact.table}",
                ):
                    vs = versions[bk]
                    i = bisect.bisect_right([v[0] for v in vs], at) - 1
                    assert sk == vs[max(i, 0)][1], (fact.table, bk, at)
                    checked += 1
        assert checked > 1000


def test_replaying_every_clean_topic_changes_nothing(run: Run, settings: OrionSettings) -> None:
    with psycopg2.connect(run.clean_db) as conn:
        before = table_checksums(conn)
        with conn.cursor() as cur:
            cur.execute("DELETE FROM metadata.sink_offsets")
    conn.close()
    stop, thread, errors = run_in_process(settings, run.clean_db, run.prefix, run.topics, 3000)
    wait_loaded(run.clean_db, run.ends, 120, thread.is_alive)
    stop.set()
    thread.join(60)
    assert not errors, errors
    with psycopg2.connect(run.clean_db) as conn:
        assert table_checksums(conn) == before
    conn.close()
