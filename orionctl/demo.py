"""The product's main job end to end on the local stack: what `make demo` runs.

One run gets its own topic prefix (``demo<time>.``) and a fresh warehouse
database (``orion_demo``), so every run starts from nothing and its summary
is exact: topics created, schemas registered, the processor and both sinks
started as real ``orion`` services, a seeded producer run with defects and a
ground-truth ledger, a wait until every consumer has caught up, then the
finance report and a summary that sets what the ledger expected beside what
the pipeline did. The services are stopped at the end; the stack stays up.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from psycopg2 import sql

from orion import s3 as orion_s3
from orion.catalog import entities
from orion.exceptions import OrionError
from orion.settings import OrionSettings, default_stack_dir
from orionctl.ops.dead_letters import count_dead_letters
from orionctl.pipeline_run import PipelineError, PipelineRun

DEMO_DATABASE = "orion_demo"
CATCH_UP_TIMEOUT_S = 900.0
#: The services the demo runs, with their extra arguments.
DEMO_SERVICES: dict[str, list[str]] = {
    "processor": [],  # --data-dir added per run
    "sink-s3": ["--max-age", "5"],
    "sink-warehouse": [],
    "sink-dq": [],
    "lag-exporter": [],
}
Report = Callable[[str], None]


@dataclass
class DemoSummary:
    prefix: str
    events: int = 0
    expected: Counter[str] = field(default_factory=Counter)  # outcome -> events
    expected_reasons: Counter[str] = field(default_factory=Counter)
    dead_letters: Counter[str] = field(default_factory=Counter)  # reason -> records
    warehouse_rows: dict[str, int] = field(default_factory=dict)
    bronze_objects: int = 0
    bronze_records_lag: int = 0
    elapsed_s: float = 0.0
    report_html: Path | None = None


class DemoError(OrionError):
    """A step of the demo failed; the message names it and its log."""


def _orion_executable() -> list[str]:
    """How this shell can run the ``orion`` that runs now: on PATH, a path, or ``python -m``."""
    exe = Path(sys.executable).with_name("orion")  # the console script beside the interpreter
    if not exe.is_file():
        return [sys.executable, "-m", "orionctl"]
    found = shutil.which("orion")
    if found and Path(found).resolve() == exe.resolve():
        return ["orion"]
    try:
        return [str(exe.absolute().relative_to(Path.cwd()))]
    except ValueError:
        return [str(exe)]


def report_command(prefix: str, html: Path | None = None) -> str:
    """The ``orion report`` command line that reports on what a demo run loaded.

    Printed for people to paste, so it names the demo's database (nothing else
    points at it), the stack directory when one was chosen, and for the HTML
    page the run's topic prefix (its dead letters are counted under it).
    """
    env = []
    if "ORION_STACK_DIR" in os.environ:
        env.append(f"ORION_STACK_DIR={shlex.quote(str(default_stack_dir()))}")
    args = [*_orion_executable(), "report", "--database", DEMO_DATABASE]
    if html is not None:
        env.append(f"ORION_TOPIC_PREFIX={shlex.quote(prefix)}")
        args += ["--format", "html", "--output", str(html)]
    return " ".join([*env, *(shlex.quote(a) for a in args)])


def _warehouse_rows(dsn: str) -> dict[str, int]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            # Star-schema tables only: no partitions, change logs or the calendar.
            cur.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'warehouse' AND c.relkind IN ('r', 'p')"
                " AND NOT c.relispartition AND c.relname ~ '^(dim|fact)_'"
                " AND c.relname !~ '_changes$' AND c.relname <> 'dim_date' ORDER BY 1"
            )
            names = [r[0] for r in cur.fetchall()]
            rows = {}
            for name in names:
                cur.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("warehouse", name))
                )
                row = cur.fetchone()
                rows[name] = int(row[0]) if row else 0
            return rows
    finally:
        conn.close()


def _bronze_objects(settings: OrionSettings, prefix: str) -> int:
    s3 = orion_s3.client(settings)
    count = 0
    for e in entities():
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=settings.s3_bucket, Prefix=f"bronze/{prefix}{e.topic('raw')}/"
        )
        count += sum(len(page.get("Contents", [])) for page in pages)
    return count


def run_demo(
    settings: OrionSettings,
    events: int,
    seed: int,
    workdir: Path,
    report: Report,
    while_running: Callable[[str, str], None] | None = None,
) -> tuple[DemoSummary, str]:
    """Run the whole pipeline once; returns the summary and the finance report's text.

    The HTML report is written to ``<run dir>/report.html`` (``summary.report_html``).

    ``while_running(prefix, dsn)`` is called once everything has caught up and
    before the services stop (the dashboard test queries Prometheus there).
    """
    started = time.monotonic()
    prefix = time.strftime("demo%Y%m%d%H%M%S.")
    run_dir = workdir / prefix.rstrip(".")
    summary = DemoSummary(prefix=prefix)
    run = PipelineRun(settings, prefix=prefix, run_dir=run_dir, database=DEMO_DATABASE)
    dsn = run.dsn
    report(f"run {prefix.rstrip('.')}: topics, schemas and a fresh database {DEMO_DATABASE}")
    run.prepare()
    ledger = run_dir / "ledger.jsonl"
    try:
        for name, extra in DEMO_SERVICES.items():
            if name == "processor":
                extra = ["--data-dir", str(run_dir / "processor")]
            run.start(name, extra)
        note = " (each as its own Kafka principal)" if settings.kafka_sasl_username else ""
        report(f"services started{note}: {', '.join(run.procs)} (logs in {run_dir})")
        report(f"producing {events} events (seed {seed}) with defects")
        run.orion(
            ["produce", "--events", str(events), "--max-rate", "--seed", str(seed),
             "--ledger", str(ledger)],
            principal="producer",
            log=run_dir / "producer.log",
        )  # fmt: skip
        try:
            run.wait_caught_up(CATCH_UP_TIMEOUT_S, report)
        except PipelineError as e:
            raise DemoError(str(e)) from e
        report("caught up")
        if while_running is not None:
            while_running(prefix, dsn)
    finally:
        run.stop()

    for line in ledger.read_text().splitlines():
        rec = json.loads(line)
        summary.events += 1
        summary.expected[rec["outcome"]] += 1
        if rec["reason"]:
            summary.expected_reasons[rec["reason"]] += 1
    for (_topic, reason), n in count_dead_letters(settings.kafka_client_config(), prefix).items():
        summary.dead_letters[reason] += n
    summary.warehouse_rows = _warehouse_rows(dsn)
    summary.bronze_objects = _bronze_objects(settings, prefix)
    text = run.orion(["report", "--limit", "10"]).stdout
    summary.report_html = run_dir / "report.html"
    run.orion(["report", "--format", "html", "--output", str(summary.report_html)])
    summary.elapsed_s = time.monotonic() - started
    return summary, text
