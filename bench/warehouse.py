"""Benchmark: records/s through the warehouse loader beside a raw COPY of the same rows.

The input is a seeded simulator run's clean records (facts and master data),
with every master record re-sent four more times unchanged and later, so
that 20% of dimension records are real changes and 80% must add nothing -
the mix a compacted, replayed master topic gives. The loader path is what
`orion sink warehouse` does per batch (COPY to staging, SCD1/SCD2 merges,
inferred members, fact upserts with point-in-time keys, offsets, commit);
the baseline COPYs the same rows straight into the same tables of a second
fresh database (keys precomputed, no merging). Both run in one process, one
after the other, so the ratio holds on a shared, noisy machine.
Usage: python -m bench.warehouse [--events N] [--batch N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import time
import uuid
from typing import Any

import psycopg2
from psycopg2 import sql

from orion.database_url import with_database
from orion.settings import load_settings
from producers.simulation import SimulationConfig, simulate
from sinks.warehouse.load import Item, Load
from sinks.warehouse.migrations import migrate
from sinks.warehouse.staging import encode_rows
from sinks.warehouse.tables import DIMENSIONS, FACTS
from sinks.warehouse.writer import WarehouseWriter

# The ledger-to-clean-record conversion the warehouse tests use, so both agree.
from tests.warehouse_sql.support import to_clean

SOURCES = frozenset({"erp", "crm", "finance", "supplier", "iot"})
RESENDS = 4


def workload(events: int) -> list[tuple[str, dict[str, Any]]]:
    masters = {d.stem for d in DIMENSIONS.values()}
    out = []
    for ev in simulate(SimulationConfig(sources=SOURCES, seed=1, total_events=events)):
        led = ev.ledger
        if led.outcome not in ("ACCEPT", "REPAIR") or led.expected is None:
            continue
        stem = led.topic.removeprefix("raw.")
        rec = to_clean(stem, led.expected)
        out.append((stem, rec))
        if stem in masters and rec["operation"] == "UPSERT":
            for k in range(1, RESENDS + 1):
                later = rec["updated_at"] + dt.timedelta(seconds=k)
                out.append(
                    (stem, {**rec, "updated_at": later, "event_id": f"{rec['event_id']}-{k}"})
                )
    return out


def database(settings: Any) -> tuple[str, Any]:
    name = "wh_bench_" + uuid.uuid4().hex[:8]
    admin = psycopg2.connect(settings.database_dsn)
    admin.autocommit = True
    admin.cursor().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = with_database(settings.database_dsn, name)
    migrate(dsn)
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT warehouse.ensure_telemetry_partitions('2025-02-01', '2026-04-01')")
    conn.close()
    return dsn, (admin, name)


def drop(handle: Any) -> None:
    admin, name = handle
    admin.cursor().execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


def run_loader(dsn: str, rows: list[tuple[str, dict[str, Any]]], size: int) -> float:
    writer = WarehouseWriter(dsn)
    started = time.perf_counter()
    for i in range(0, len(rows), size):
        b = Load()
        for j, (stem, rec) in enumerate(rows[i : i + size], i):
            b.items.append(Item(stem, "clean." + stem, 0, j, rec))
            b.advance("clean." + stem, 0, j)
        writer.write(b)
    elapsed = time.perf_counter() - started
    writer.close()
    return elapsed


def _target_rows(stem: str, recs: list[dict[str, Any]]) -> tuple[str, list[str], io.StringIO]:
    """The rows as they land in the target table, with keys precomputed (1) and no merging."""
    if stem in FACTS:
        spec = FACTS[stem]
        names = [*spec.business, "event_id", "event_time", "produced_at"]
        extra = ["date_key", *(DIMENSIONS[r.dim].surrogate for r in spec.refs)]
        fixed = [r | {"date_key": 20250301, **{k: 1 for k in extra[1:]}} for r in recs]
        if len(spec.natural_key) == 1:
            fixed = list({r[spec.natural_key[0]]: r for r in fixed}.values())
        return spec.table, names + extra, _encode(names + extra, fixed)
    dim = next(d for d in DIMENSIONS.values() if d.stem == stem)
    names = [dim.key, *dim.attributes, "row_hash", "event_id"]
    if dim.scd == 1:
        recs = list({r[dim.key]: r for r in recs}.values())
        names += ["updated_at"]
        fixed = [r | {"row_hash": "x"} for r in recs]
    else:
        names += ["valid_from", "valid_to", "is_current"]
        fixed = [
            r
            | {
                "row_hash": "x",
                "valid_from": r["updated_at"],
                "valid_to": r["updated_at"] + dt.timedelta(milliseconds=1),
                "is_current": False,
            }
            for r in recs
        ]
    return dim.table, names, _encode(names, fixed)


def _encode(names: list[str], recs: list[dict[str, Any]]) -> io.StringIO:
    buf = io.StringIO()
    for r in recs:
        buf.write("\t".join("\\N" if r.get(n) is None else _text(r[n]) for n in names) + "\n")
    buf.seek(0)
    return buf


def _text(v: Any) -> str:
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, list):
        return "{" + ",".join(f'"{e}"' for e in v) + "}"
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _unique(rows: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Drop the rows a plain COPY cannot take (a second row for a unique key)."""
    seen: set[tuple[str, Any]] = set()
    out = []
    for stem, rec in rows:
        if stem in FACTS and len(FACTS[stem].natural_key) == 1:
            key: Any = rec[FACTS[stem].natural_key[0]]
        elif stem not in FACTS and (d := _dim(stem)).scd == 1:
            key = rec[d.key]
        else:
            out.append((stem, rec))
            continue
        if (stem, key) not in seen:
            seen.add((stem, key))
            out.append((stem, rec))
    return out


def _dim(stem: str) -> Any:
    return next(d for d in DIMENSIONS.values() if d.stem == stem)


def run_copy(dsn: str, rows: list[tuple[str, dict[str, Any]]], size: int) -> float:
    rows = _unique(rows)
    conn = psycopg2.connect(dsn)
    started = time.perf_counter()
    for i in range(0, len(rows), size):
        by_stem: dict[str, list[dict[str, Any]]] = {}
        for stem, rec in rows[i : i + size]:
            by_stem.setdefault(stem, []).append(rec)
        with conn.cursor() as cur:
            for stem, recs in by_stem.items():
                encode_rows(stem, recs)  # the loader pays for this encoding too
                table, names, buf = _target_rows(stem, recs)
                cur.copy_expert(
                    sql.SQL("COPY {} ({}) FROM STDIN")
                    .format(
                        sql.Identifier("warehouse", table),
                        sql.SQL(", ").join(map(sql.Identifier, names)),
                    )
                    .as_string(conn),
                    buf,
                )
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    settings = load_settings()
    rows = workload(args.events)
    dims = sum(1 for s, _ in rows if s not in FACTS)
    print(
        f"{len(rows)} records: {dims} dimension ({100 // (RESENDS + 1)}% real changes), "
        f"{len(rows) - dims} facts; batches of {args.batch}"
    )
    loader_dsn, h1 = database(settings)
    copy_dsn, h2 = database(settings)
    try:
        t_loader = run_loader(loader_dsn, rows, args.batch)
        t_copy = run_copy(copy_dsn, rows, args.batch)
    finally:
        drop(h1)
        drop(h2)
    r_loader, r_copy = len(rows) / t_loader, len(rows) / t_copy
    print(f"loader  : {r_loader:9.0f} records/s ({t_loader:.1f}s)")
    print(f"raw COPY: {r_copy:9.0f} records/s ({t_copy:.1f}s)")
    print(f"ratio   : {100 * r_loader / r_copy:.0f}% of raw COPY (target >= 50%)")


if __name__ == "__main__":
    main()
