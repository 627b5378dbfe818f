"""One run of the whole pipeline on the local stack, its services as real ``orion`` processes.

A run gets its own topic prefix and a fresh warehouse database, so what it
loads can be held against its producer's ledger exactly. The demo, the chaos
drill and the end-to-end and soak benchmarks each drive one: they start the
services they need (a name such as ``processor-2`` runs a second copy of
``processor``), produce, SIGKILL and restart services as their scenario says,
and wait until every consumer has caught up. Each service runs as its own
Kafka principal with its ACLs granted under the prefix when the stack's
broker is the secured one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

from orion.catalog import entities
from orion.database_url import with_database
from orion.exceptions import OrionError, ServiceUnavailableError
from orion.settings import OrionSettings
from orionctl.ops import offsets, sink_offsets
from orionctl.stack.config import load_stack_config
from orionctl.stack.kafka import Kafka
from orionctl.stack.kafka_access import service_env

__all__ = ["SERVICES", "PipelineError", "PipelineRun", "ServiceKind", "kind_of"]

Report = Callable[[str], None]


@dataclass(frozen=True)
class ServiceKind:
    """How a pipeline service is started: its ``orion`` arguments, principal, consumer group."""

    args: tuple[str, ...]
    principal: str
    group: str | None  # consumer group under the prefix, None: offsets kept elsewhere
    endpoint: str  # the ``service`` label it registers for scraping under
    reads: str = "raw"  # the layer its group consumes


SERVICES: dict[str, ServiceKind] = {
    "processor": ServiceKind(("process",), "processor", "orion-processor", "processor"),
    "sink-s3": ServiceKind(("sink", "s3"), "sink-s3", "orion-s3-sink", "s3-sink"),
    "sink-warehouse": ServiceKind(("sink", "warehouse"), "sink-warehouse", None, "sink-warehouse"),
    "sink-silver": ServiceKind(
        ("sink", "silver"), "sink-silver", "orion-silver-sink", "silver-sink", "clean"
    ),
    "sink-dq": ServiceKind(("sink", "dq"), "sink-dq", None, "sink-dq"),
    "lag-exporter": ServiceKind(("lag", "--serve"), "operator", None, "lag-exporter"),
}
"""Every long-running service of the pipeline (the lag exporter is an operator tool)."""


class PipelineError(OrionError):
    """A step of a pipeline run failed; the message names it and its log."""


def kind_of(name: str) -> str:
    """``processor-2`` -> ``processor``: the service a named copy runs."""
    if name in SERVICES:
        return name
    base, _, n = name.rpartition("-")
    if base in SERVICES and n.isdigit():
        return base
    raise PipelineError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")


class PipelineRun:
    """The topics, database and service processes of one run under ``prefix``."""

    def __init__(
        self,
        settings: OrionSettings,
        *,
        prefix: str,
        run_dir: Path,
        database: str,
        partitions: int = 3,
    ) -> None:
        self.settings = settings
        self.prefix = prefix
        self.run_dir = run_dir
        self.database = database
        self.partitions = partitions
        self.dsn = with_database(settings.database_dsn, database)
        self.env = {**os.environ, "ORION_TOPIC_PREFIX": prefix, **settings.database_env(database)}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.launched: list[subprocess.Popen[bytes]] = []
        self.exits: list[str] = []
        """Services that exited by themselves and were started again, with their codes."""
        self._args: dict[str, tuple[list[str], dict[str, str]]] = {}
        run_dir.mkdir(parents=True, exist_ok=True)

    # -- set-up -------------------------------------------------------------------
    def prepare(self) -> None:
        """A fresh database, migrated; the run's topics created and its schemas registered."""
        conn = psycopg2.connect(self.settings.database_dsn)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                name = sql.Identifier(self.database)
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
                cur.execute(sql.SQL("CREATE DATABASE {}").format(name))
        finally:
            conn.close()
        self.orion(["warehouse", "migrate"])
        self.orion(["topics", "create", "--partitions", str(self.partitions)])
        self.orion(["schemas", "register"])

    def principal_env(self, principal: str) -> dict[str, str]:
        """Credentials of ``principal`` with its ACLs under the prefix; nothing when the broker
        is not the secured local stack's (docker-compose, a plaintext stack)."""
        cfg = load_stack_config()
        kafka = Kafka(cfg)
        if self.settings.kafka_sasl_username is None or not kafka.secured:
            return {}
        if self.settings.kafka_bootstrap != kafka.bootstrap():
            return {}
        return service_env(cfg, principal, self.prefix)

    def orion(
        self,
        args: Sequence[str],
        *,
        principal: str | None = None,
        log: Path | None = None,
        timeout: float = 900,
    ) -> subprocess.CompletedProcess[str]:
        """Run one ``orion`` command to its end; PipelineError when it fails."""
        env = {**self.env, **(self.principal_env(principal) if principal else {})}
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
            raise PipelineError(
                f"`orion {' '.join(args)}` failed:\n{result.stderr.strip()[-2000:]}"
            )
        return result

    # -- services -----------------------------------------------------------------
    def start(
        self, name: str, extra: Sequence[str] = (), env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``name`` (or a numbered copy of a service); it logs to ``<run dir>/<name>.log``."""
        kind = SERVICES[kind_of(name)]
        args = [*kind.args, *extra]
        own = {**self.env, **self.principal_env(kind.principal), **(env or {})}
        self._args[name] = (args, own)
        return self._spawn(name)

    def _spawn(self, name: str) -> subprocess.Popen[bytes]:
        args, env = self._args[name]
        with open(self.run_dir / f"{name}.log", "ab") as log:  # the child keeps its own fd
            proc = subprocess.Popen(
                [sys.executable, "-m", "orionctl", *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.procs[name] = proc
        return proc

    def start_pipeline(self, processors: int, silver_prefix: str) -> None:
        """``processors`` workers (own data dir and instance id each) and the bronze,
        warehouse and silver sinks: the pipeline the benchmarks measure."""
        for i in range(1, processors + 1):
            name = f"processor-{i}"
            self.start(name, ["--data-dir", str(self.run_dir / name), "--instance-id", name])
        self.start("sink-s3", ["--instance-id", "sink-s3-1"])
        self.start("sink-warehouse", ["--instance-id", "sink-warehouse-1"])
        silver = {"ORION_SILVER_SINK_PREFIX": silver_prefix}
        self.start("sink-silver", ["--instance-id", "sink-silver-1"], env=silver)

    def launch(
        self, args: Sequence[str], *, principal: str | None, log_name: str
    ) -> subprocess.Popen[bytes]:
        """Start a bounded ``orion`` command (a producer run) in the background; not a
        service: :meth:`dead` and :meth:`supervise` leave it alone, and :meth:`stop`
        ends it only if it is still running (a run aborted half way must not leave a
        producer sending into its topics for the next half hour)."""
        env = {**self.env, **(self.principal_env(principal) if principal else {})}
        with open(self.run_dir / f"{log_name}.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "orionctl", *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.launched.append(proc)
        return proc

    def kill(self, name: str) -> None:
        """SIGKILL ``name`` (a crash: nothing flushed, nothing closed)."""
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)

    def restart(self, name: str) -> subprocess.Popen[bytes]:
        """Start ``name`` again with the arguments it had (what a supervisor does)."""
        if self.procs[name].poll() is None:
            raise PipelineError(f"{name} is still running")
        return self._spawn(name)

    def dead(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is not None]

    def supervise(self, report: Report) -> list[str]:
        """Start again every service that exited by itself, as a supervisor would (a worker
        exits on purpose when it cannot go on, e.g. fenced after its transaction timed
        out, for its supervisor to restart it); the names restarted."""
        dead = self.dead()
        for name in dead:
            code = self.procs[name].returncode
            self.exits.append(f"{name} exited {code}")
            report(f"{name} exited by itself (code {code}); starting it again")
            self._spawn(name)
        return dead

    def stop(self, grace_s: float = 120) -> dict[str, int]:
        """SIGTERM every service, SIGKILL what has not stopped in ``grace_s``; their exit codes
        (-9: killed, it did not stop in time). A launched command still running is ended
        first."""
        for cmd in self.launched:
            if cmd.poll() is None:
                cmd.send_signal(signal.SIGTERM)
                try:
                    cmd.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    cmd.kill()
                    cmd.wait()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        return codes

    # -- progress -----------------------------------------------------------------
    def _partitions(self, layer: str) -> list[tuple[str, int]]:
        return [
            (self.prefix + e.topic(layer), p) for e in entities() for p in range(self.partitions)
        ]

    def caught_up(self) -> tuple[bool, int]:
        """(every started consumer at the end, records still to consume; -1: not yet known)."""
        bootstrap = self.settings.kafka_client_config()
        kinds = {kind_of(n) for n in self.procs}
        behind = 0
        for kind in sorted(kinds):
            spec = SERVICES[kind]
            if spec.group is None:
                continue
            committed = offsets.committed_offsets(bootstrap, self.prefix + spec.group)
            if not committed:
                return False, -1
            # Every partition the group reads, committed or not: one it never committed
            # is behind by all it holds.
            parts = self._partitions(spec.reads)
            ends = offsets.list_offsets(bootstrap, parts, offsets.LATEST)
            # A transactional producer leaves a commit marker after its last record: a
            # consumer of a clean topic that has read everything stands one short of the end.
            marker = 1 if spec.reads == "clean" else 0
            behind += sum(
                max(ends[tp] - (committed.get(tp) or 0) - marker, 0) for tp in parts if ends[tp]
            )
        stored = sink_offsets.read(self.dsn)
        if "sink-warehouse" in kinds:
            loaded = stored.get("warehouse", {})
            clean = self._partitions("clean")
            ends = offsets.list_offsets(
                bootstrap, [tp for tp in clean if tp in loaded] or clean, offsets.LATEST
            )
            behind += sum(max(ends[tp] - loaded.get(tp, 0) - 1, 0) for tp in ends)
        if "sink-dq" in kinds:
            counted = stored.get("dq", {})
            if not counted:
                return False, -1
            raw = self._partitions("raw")
            raw_ends = offsets.list_offsets(bootstrap, raw, offsets.LATEST)
            behind += sum(max(raw_ends[tp] - counted.get(tp, 0), 0) for tp in raw)
            verdicts = self._partitions("clean") + self._partitions("dlq")
            ends = offsets.list_offsets(bootstrap, verdicts, offsets.LATEST)
            behind += sum(max(ends[tp] - counted.get(tp, 0) - 1, 0) for tp in verdicts if ends[tp])
        return behind == 0, behind

    def wait_caught_up(
        self, timeout_s: float, report: Report, *, every_s: float = 10, supervise: bool = True
    ) -> float:
        """Block until :meth:`caught_up`; the seconds it took. A service that exits is
        started again (:meth:`supervise`), or with ``supervise=False`` is a PipelineError,
        like running out of time."""
        started = time.monotonic()
        last_note = 0.0
        while True:
            if supervise:
                self.supervise(report)
            elif dead := self.dead():
                raise PipelineError(f"{', '.join(dead)} exited early; see {self.run_dir}")
            try:
                done, behind = self.caught_up()
            except (ServiceUnavailableError, psycopg2.OperationalError) as e:
                # Kafka or PostgreSQL just restarted (a drill's fault): ask again, in time.
                done, behind = False, -1
                report(f"could not read the offsets yet: {e}")
            if done:
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise PipelineError(
                    f"not caught up after {timeout_s:.0f}s ({behind} records behind); "
                    f"see {self.run_dir}"
                )
            if time.monotonic() - last_note > every_s:
                report(
                    "waiting for the consumers to join and commit"
                    if behind < 0
                    else f"waiting for the pipeline to catch up: {behind} records to go"
                )
                last_note = time.monotonic()
            time.sleep(2)
