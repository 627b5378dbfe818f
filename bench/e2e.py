"""Benchmark: end-to-end latency, from the producer handing an event to Kafka to its warehouse row.

For each rate in ``--rates``: a fresh pipeline run (its own topics and
database) with ``--processors`` processor workers, the bronze, warehouse and
silver sinks as real ``orion`` services, and ``orion produce --rate R`` for
``--seconds``. Every warehouse row then names the raw record's Kafka
timestamp (``raw_timestamp``, wall clock, set when the producer handed the
event to Kafka) and the load that wrote it (``load_batch_id`` ->
``metadata.load_batches.committed_at``); the latency of a row is the one less
the other. Printed per entity (dimension and fact tables; change logs left
out): rows, p50/p95/p99/max, for the whole run and for its steady part
(rows of events produced after the first ``--warmup`` seconds). Also the rate
the producer held and how long the pipeline took to drain after it stopped.
Target: p99 < 2 s at 5,000 events/s.

The services are started and found ready before the producer starts: start-up
is not latency.

Usage: python -m bench.e2e [--rates 5000] [--seconds 600] [--processors 2]
       [--partitions 6] [--warmup 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

from orion.settings import load_settings
from orionctl.pipeline_run import PipelineRun

ENTITY_TABLES = (
    "dim_customer", "dim_vehicle", "dim_dealer", "dim_supplier",
    "fact_sales", "fact_payments", "fact_commissions", "fact_expenses",
    "fact_production_costs", "fact_service_events", "fact_procurement",
    "fact_inventory", "fact_interactions", "fact_telemetry",
)  # fmt: skip


def latency_sql(table: str, since: float | None) -> str:
    where = "" if since is None else f" AND t.raw_timestamp >= to_timestamp({since})"
    return (
        "SELECT count(*), "
        "percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY s), max(s) FROM ("
        "SELECT extract(epoch FROM b.committed_at - t.raw_timestamp)::float8 AS s "
        f"FROM warehouse.{table} t JOIN metadata.load_batches b ON b.batch_id = t.load_batch_id "
        f"WHERE t.raw_timestamp IS NOT NULL{where}) x"
    )


def latencies(dsn: str, since: float | None) -> dict[str, tuple[int, list[float], float]]:
    out = {}
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        for table in ENTITY_TABLES:
            cur.execute(latency_sql(table, since))
            n, pcts, mx = cur.fetchone() or (0, None, None)
            if n:
                out[table] = (int(n), list(pcts), float(mx))
        cur.execute(latency_sql_all(since))
        n, pcts, mx = cur.fetchone() or (0, None, None)
        if n:
            out["ALL"] = (int(n), list(pcts), float(mx))
    conn.close()
    return out


def latency_sql_all(since: float | None) -> str:
    where = "" if since is None else f" AND t.raw_timestamp >= to_timestamp({since})"
    union = " UNION ALL ".join(
        "SELECT extract(epoch FROM b.committed_at - t.raw_timestamp)::float8 AS s "
        f"FROM warehouse.{table} t JOIN metadata.load_batches b ON b.batch_id = t.load_batch_id "
        f"WHERE t.raw_timestamp IS NOT NULL{where}"
        for table in ENTITY_TABLES
    )
    return (
        "SELECT count(*), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY s), "
        f"max(s) FROM ({union}) x"
    )


def print_table(title: str, rows: dict[str, tuple[int, list[float], float]]) -> None:
    print(f"  {title}")
    print(f"    {'entity':24} {'rows':>9} {'p50 s':>7} {'p95 s':>7} {'p99 s':>7} {'max s':>7}")
    for name, (n, (p50, p95, p99), mx) in rows.items():
        print(f"    {name:24} {n:9d} {p50:7.2f} {p95:7.2f} {p99:7.2f} {mx:7.2f}")


def wait_ready(run: PipelineRun, timeout_s: float = 120) -> None:
    """Until every consumer group has members with assignments (caught_up knows it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if run.dead():
            raise SystemExit(f"{run.dead()} exited; see {run.run_dir}")
        done, _ = run.caught_up()
        if done:
            return
        time.sleep(2)
    raise SystemExit(f"services not ready after {timeout_s}s; see {run.run_dir}")


def one_rate(args: argparse.Namespace, rate: float, workdir: Path) -> float:
    settings = load_settings()
    prefix = time.strftime(f"e2e{int(rate)}r%H%M%S.")
    run = PipelineRun(settings, prefix=prefix, run_dir=workdir / prefix.rstrip("."),
                      database="orion_e2e", partitions=args.partitions)  # fmt: skip
    run.prepare()
    events = int(rate * args.seconds)
    try:
        run.start_pipeline(args.processors, f"bench/{prefix.rstrip('.')}/silver")
        # An empty run is "caught up" only once every group has committed something:
        # a few events first, then the measured stream.
        run.orion(["produce", "--events", "200", "--max-rate", "--seed", "1"],
                  principal="producer")  # fmt: skip
        wait_ready(run)
        started = time.time()
        t0 = time.monotonic()
        run.orion(["produce", "--events", str(events), "--rate", str(rate), "--seed",
                   str(args.seed)], principal="producer", log=run.run_dir / "producer.log",
                  timeout=args.seconds * 3 + 600)  # fmt: skip
        produced_s = time.monotonic() - t0
        drained = run.wait_caught_up(1800, lambda m: print(f"  {m}", flush=True))
    finally:
        run.stop()
    print(f"rate {rate:.0f}/s: {events} events produced in {produced_s:.1f}s "
          f"({events / produced_s:.0f} events/s held), drained {drained:.1f}s after; "
          f"{args.processors} processors, {args.partitions} partitions; load "
          f"{os.getloadavg()[0]:.1f}; logs {run.run_dir}")  # fmt: skip
    whole = latencies(run.dsn, None)
    print_table("whole run", whole)
    steady = latencies(run.dsn, started + args.warmup)
    print_table(f"steady (events after the first {args.warmup:.0f}s)", steady)
    return steady["ALL"][1][2] if "ALL" in steady else float("inf")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="5000", help="comma-separated events/s, in turn")
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("--processors", type=int, default=2)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--warmup", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="orion-e2e-"))
    verdicts = []
    for rate in (float(r) for r in a.rates.split(",")):
        p99 = one_rate(a, rate, workdir)
        verdicts.append((rate, p99))
        print(f"  => p99 {p99:.2f}s at {rate:.0f}/s: "
              f"{'under' if p99 < 2 else 'OVER'} the 2 s target\n", flush=True)  # fmt: skip
    held = [r for r, p99 in verdicts if p99 < 2]
    print("highest rate with steady p99 < 2 s:", f"{max(held):.0f}/s" if held else "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
