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
import signal
import subprocess
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
from orion.database_url import with_database
from orion.exceptions import OrionError
from orion.settings import OrionSettings, default_stack_dir
from orionctl.ops import offsets, sink_offsets
from orionctl.ops.dead_letters import count_dead_letters
from orionctl.stack.config import load_stack_config
from orionctl.stack.kafka import Kafka
from orionctl.stack.kafka_access import service_env

DEMO_DATABASE = "orion_demo"
CATCH_UP_TIMEOUT_S = 900.0
SERVICES = {
    "processor": ["process"],
    "sink-s3": ["sink", "s3"],
    "sink-warehouse": ["sink", "warehouse"],
    "sink-dq": ["sink", "dq"],
    "lag-exporter": ["lag", "--serve"],
}
#: The Kafka principal each service runs under (the lag exporter is an operator tool).
PRINCIPALS = {
    "processor": "processor",
    "sink-s3": "sink-s3",
    "sink-warehouse": "sink-warehouse",
    "sink-dq": "sink-dq",
    "lag-exporter": "operator",
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


def _orion(
    args: list[str], env: dict[str, str], log: Path | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "orionctl", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if log is not None:
        log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise DemoError(f"`orion {' '.join(args)}` failed:\n{result.stderr.strip()[-2000:]}")
    return result


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


def _fresh_database(settings: OrionSettings) -> str:
    conn = psycopg2.connect(settings.database_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DEMO_DATABASE))
        )
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEMO_DATABASE)))
    conn.close()
    return with_database(settings.database_dsn, DEMO_DATABASE)


def _principal_env(settings: OrionSettings, principal: str, prefix: str) -> dict[str, str]:
    """Credentials of ``principal`` on the local stack, with its ACLs granted under ``prefix``.

    Nothing when the broker is not the secured local stack's (docker-compose, a
    plaintext stack): every service then runs with the caller's settings.
    """
    cfg = load_stack_config()
    if settings.kafka_sasl_username is None or not Kafka(cfg).secured:
        return {}
    if settings.kafka_bootstrap != Kafka(cfg).endpoint():
        return {}
    return service_env(cfg, principal, prefix)


def _start(name: str, args: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    with open(logs / f"{name}.log", "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "orionctl", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _caught_up(settings: OrionSettings, prefix: str, dsn: str) -> tuple[bool, int]:
    """(all consumers at the end, records still to consume)."""
    bootstrap = settings.kafka_client_config()
    behind = 0
    for group in (prefix + "orion-processor", prefix + "orion-s3-sink"):
        rows = offsets.lag(bootstrap, group)
        if not rows:
            return False, -1
        behind += sum(r.lag for r in rows)
    stored = sink_offsets.read(dsn)
    loaded = stored.get("warehouse", {})
    clean = [(prefix + e.topic("clean"), p) for e in entities() for p in range(3)]
    ends = offsets.list_offsets(
        bootstrap, [tp for tp in clean if tp in loaded] or clean, offsets.LATEST
    )
    # A transactional producer leaves a commit marker after its last record: a
    # consumer that has read everything stands one short of the end offset.
    behind += sum(max(ends[tp] - loaded.get(tp, 0) - 1, 0) for tp in ends)
    counted = stored.get("dq", {})
    if not counted:
        return False, -1
    raw = [(prefix + e.topic("raw"), p) for e in entities() for p in range(3)]
    raw_ends = offsets.list_offsets(bootstrap, raw, offsets.LATEST)
    behind += sum(max(raw_ends[tp] - counted.get(tp, 0), 0) for tp in raw)
    verdicts = [(prefix + e.topic(layer), p) for layer in ("clean", "dlq") for e in entities()
                for p in range(3)]  # fmt: skip
    ends = offsets.list_offsets(bootstrap, verdicts, offsets.LATEST)
    behind += sum(max(ends[tp] - counted.get(tp, 0) - 1, 0) for tp in verdicts if ends[tp])
    return behind == 0, behind


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
    run_dir.mkdir(parents=True, exist_ok=True)
    summary = DemoSummary(prefix=prefix)
    dsn = _fresh_database(settings)
    env = {**os.environ, "ORION_TOPIC_PREFIX": prefix, **settings.database_env(DEMO_DATABASE)}
    report(f"run {prefix.rstrip('.')}: topics, schemas and a fresh database {DEMO_DATABASE}")
    _orion(["warehouse", "migrate"], env)
    _orion(["topics", "create", "--partitions", "3"], env)
    _orion(["schemas", "register"], env)

    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        extra = {
            "processor": ["--data-dir", str(run_dir / "processor")],
            "sink-s3": ["--max-age", "5"],
            "sink-warehouse": [],
            "sink-dq": [],
            "lag-exporter": [],
        }
        for name, args in SERVICES.items():
            own = {**env, **_principal_env(settings, PRINCIPALS[name], prefix)}
            procs[name] = _start(name, [*args, *extra[name]], own, run_dir)
        note = " (each as its own Kafka principal)" if settings.kafka_sasl_username else ""
        report(f"services started{note}: {', '.join(procs)} (logs in {run_dir})")
        ledger = run_dir / "ledger.jsonl"
        report(f"producing {events} events (seed {seed}) with defects")
        _orion(
            [
                "produce",
                "--events",
                str(events),
                "--max-rate",
                "--seed",
                str(seed),
                "--ledger",
                str(ledger),
            ],
            {**env, **_principal_env(settings, "producer", prefix)},
            log=run_dir / "producer.log",
        )
        deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
        last_note = 0.0
        while True:
            dead = [n for n, p in procs.items() if p.poll() is not None]
            if dead:
                raise DemoError(f"{', '.join(dead)} exited early; see {run_dir}")
            done, behind = _caught_up(settings, prefix, dsn)
            if done:
                break
            if time.monotonic() > deadline:
                raise DemoError(
                    f"not caught up after {CATCH_UP_TIMEOUT_S:.0f}s "
                    f"({behind} records behind); see {run_dir}"
                )
            if time.monotonic() - last_note > 10:
                report(
                    "waiting for the consumers to join and commit"
                    if behind < 0
                    else f"waiting for the pipeline to catch up: {behind} records to go"
                )
                last_note = time.monotonic()
            time.sleep(2)
        report("caught up")
        if while_running is not None:
            while_running(prefix, dsn)
    finally:
        _stop(procs)

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
    text = _orion(["report", "--limit", "10"], env).stdout
    summary.report_html = run_dir / "report.html"
    _orion(["report", "--format", "html", "--output", str(summary.report_html)], env)
    summary.elapsed_s = time.monotonic() - started
    return summary, text
