"""The chaos drill: a steady stream, a fault every minute, and everything still adds up.

What it proves that the one-fault tests do not: while events flow at a steady
rate, a randomly chosen pipeline service is SIGKILLed every ``fault_every_s``
and started again (what a supervisor does), and Kafka, PostgreSQL and S3 are
each restarted once (``orion stack restart``). At the end, once every
consumer has caught up, it checks (:mod:`orionctl.drills.checks`): the clean
and DLQ topics against the producer's ledger; the warehouse's tables against
those of a fault-free run of the same seed (run first, at full speed, into its
own topics and database, by a processor and the warehouse sink alone); the
bronze archive against every raw offset; the silver Parquet against every
committed clean offset; that no alert about the run is still firing; and
that every service stops cleanly on SIGTERM.

The producer is not among the services killed: its ledger records what it
sent, so a killed producer would make the yardstick itself wrong.

``make chaos`` runs the full drill (15 minutes at 2,500 events/s); the test
suite runs a 3-minute version with 3 faults
(``tests/orionctl/drills/test_chaos.py``).
"""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orion.catalog import entities
from orion.settings import OrionSettings
from orionctl.drills.checks import (
    Check,
    alerts_check,
    bronze_check,
    ledger_check,
    silver_check,
    warehouse_check,
)
from orionctl.ops.ledger_score import read_records
from orionctl.pipeline_run import SERVICES, PipelineError, PipelineRun, kind_of
from orionctl.stack import manager
from orionctl.stack.config import load_stack_config

__all__ = ["ChaosPlan", "ChaosResult", "run_chaos"]

Report = Callable[[str], None]
KILLABLE = ("processor", "sink-s3", "sink-warehouse", "sink-silver", "sink-dq")


@dataclass(frozen=True)
class ChaosPlan:
    """How long, how fast, and which faults; the defaults are ``make chaos``'s."""

    minutes: float = 15.0
    rate: float = 2500.0
    fault_every_s: float = 60.0
    stack_restarts: tuple[str, ...] = ("kafka", "postgres", "s3")
    seed: int = 7
    partitions: int = 3
    down_for_s: float = 5.0
    catch_up_timeout_s: float = 900.0
    alert_wait_s: float = 240.0

    @property
    def events(self) -> int:
        return int(self.rate * self.minutes * 60)

    def schedule(self) -> list[str]:
        """One fault per ``fault_every_s`` while producing: ``kill`` or a stack service
        to restart, the restarts spread evenly among the kills."""
        n = max(int(self.minutes * 60 / self.fault_every_s) - 1, len(self.stack_restarts))
        faults = ["kill"] * n
        for k, name in enumerate(self.stack_restarts):
            faults[(k + 1) * n // (len(self.stack_restarts) + 1)] = name
        return faults


@dataclass
class ChaosResult:
    prefix: str
    events: int
    faults: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    produced_s: float = 0.0
    caught_up_s: float = 0.0
    reference_s: float = 0.0
    exits: list[str] = field(default_factory=list)
    """Services that exited by themselves (and were started again), in either run."""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def _services(run: PipelineRun, silver_prefix: str) -> None:
    # A librdkafka call that never returns after a broker restart (librdkafka #5456)
    # makes the worker exit after a minute, for the supervision to start it again.
    data = str(run.run_dir / "processor")
    run.start("processor", ["--data-dir", data, "--instance-id", "processor-1",
                            "--exit-when-stuck", "60s"])  # fmt: skip
    # The sinks' own rotation (60 s): a shorter one makes silver write an object per
    # partition and event day every few seconds (13,853 objects for 40k records at 10 s).
    run.start("sink-s3", ["--instance-id", "sink-s3-1"])
    run.start("sink-warehouse", ["--instance-id", "sink-warehouse-1"])
    run.start(
        "sink-silver",
        ["--instance-id", "sink-silver-1"],
        env={"ORION_SILVER_SINK_PREFIX": silver_prefix},
    )
    run.start("sink-dq", [])


def _produce_args(plan: ChaosPlan, ledger: Path, rate: float | None) -> list[str]:
    pace = ["--rate", str(rate)] if rate else ["--max-rate"]
    return ["produce", "--events", str(plan.events), *pace, "--seed", str(plan.seed),
            "--ledger", str(ledger)]  # fmt: skip


def _reference(settings: OrionSettings, plan: ChaosPlan, workdir: Path, stamp: str,
               report: Report) -> tuple[PipelineRun, Path]:  # fmt: skip
    prefix = f"chaosref{stamp}."
    run = PipelineRun(settings, prefix=prefix, run_dir=workdir / prefix.rstrip("."),
                      database="orion_chaos_reference", partitions=plan.partitions)  # fmt: skip
    run.prepare()
    ledger = run.run_dir / "ledger.jsonl"
    try:
        # Only what the checks compare against: the ledger and the warehouse.
        run.start("processor", ["--data-dir", str(run.run_dir / "processor")])
        run.start("sink-warehouse", [])
        report(f"reference: {plan.events} events of seed {plan.seed}, no faults, full speed")
        run.orion(_produce_args(plan, ledger, None), principal="producer",
                  log=run.run_dir / "producer.log", timeout=3600)  # fmt: skip
        _settle(settings, run, ledger, plan.catch_up_timeout_s, report)
    finally:
        run.stop()
    return run, ledger


def _settle(settings: OrionSettings, run: PipelineRun, ledger: Path, timeout_s: float,
            report: Report) -> None:  # fmt: skip
    """Until the fault-free run's topics equal its ledger and the loader has loaded them.

    Caught up alone is not done: a parked fact's raw offset is committed while it
    waits for its master, so every group can stand at the end while facts are still
    to be written. With a quick loader the reference was read that early and lacked
    34 inventory facts (CI, 2026-12-02): the drill's warehouse then differed from it.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        run.wait_caught_up(max(deadline - time.monotonic(), 1.0), report)
        check = ledger_check(settings, run.prefix, ledger)
        if check.ok:
            run.wait_caught_up(max(deadline - time.monotonic(), 1.0), report)
            return
        if time.monotonic() > deadline:
            raise PipelineError(f"the fault-free run does not match its ledger: {check.detail}")
        report(f"reference not settled yet: {check.detail[:200]}")
        time.sleep(5)


def _ours(run: PipelineRun) -> Callable[[dict[str, str]], bool]:
    """Whether an alert's labels point at this run: its topics or groups, one of its
    services' addresses, or nothing at all (a sum over every instance)."""
    sd_dir = load_stack_config().prometheus_sd_dir
    host = socket.gethostname()
    addresses: set[str] = set()
    for name, proc in run.procs.items():
        f = sd_dir / f"{SERVICES[kind_of(name)].endpoint}-{host}-{proc.pid}.json"
        if f.is_file():
            addresses.update(t for group in json.loads(f.read_text()) for t in group["targets"])
    naming = {"topic", "group", "instance", "service", "job", "partition", "dag_id"}

    def ours(labels: dict[str, str]) -> bool:
        if any(run.prefix in v for v in labels.values()) or labels.get("instance") in addresses:
            return True
        return not (naming & set(labels))

    return ours


def run_chaos(
    settings: OrionSettings, plan: ChaosPlan, workdir: Path, report: Report
) -> ChaosResult:
    """Run the reference, then the drill; every fault and check is in the result."""
    stamp = time.strftime("%Y%m%d%H%M%S")
    started = time.monotonic()
    reference, reference_ledger = _reference(settings, plan, workdir, stamp, report)
    prefix = f"chaos{stamp}."
    result = ChaosResult(prefix, plan.events, reference_s=time.monotonic() - started)
    report(f"reference done in {result.reference_s:.0f}s")
    run = PipelineRun(settings, prefix=prefix, run_dir=workdir / prefix.rstrip("."),
                      database="orion_chaos", partitions=plan.partitions)  # fmt: skip
    run.prepare()
    silver_prefix = f"chaos/{prefix.rstrip('.')}/silver"
    ledger = run.run_dir / "ledger.jsonl"
    rng = random.Random(plan.seed)  # noqa: S311 - which service to kill, not cryptography
    cfg = load_stack_config()
    try:
        _services(run, silver_prefix)
        producer = run.launch(_produce_args(plan, ledger, plan.rate), principal="producer",
                              log_name="producer")  # fmt: skip
        t0 = time.monotonic()
        report(f"chaos: {plan.events} events at {plan.rate:.0f}/s, faults {plan.schedule()}")
        for i, fault in enumerate(plan.schedule()):
            due = t0 + (i + 1) * plan.fault_every_s
            while time.monotonic() < due and producer.poll() is None:
                run.supervise(report)
                time.sleep(0.5)
            at = time.monotonic() - t0
            if fault == "kill":
                victim = rng.choice(KILLABLE)
                run.kill(victim)
                time.sleep(rng.uniform(0.5, 3.0))
                run.restart(victim)
                line = f"t={at:.0f}s SIGKILL {victim}, restarted"
            else:
                manager.restart(cfg, fault, down_for_s=plan.down_for_s)
                line = f"t={at:.0f}s restart {fault} (down {plan.down_for_s:.0f}s)"
            result.faults.append(line)
            report(line)
            run.supervise(report)
        code = producer.wait()
        result.produced_s = time.monotonic() - t0
        if code != 0:
            result.checks.append(Check("producer", False, f"exited {code}; see producer.log"))
            return result
        report(f"produced in {result.produced_s:.0f}s; waiting for the consumers")
        result.caught_up_s = run.wait_caught_up(plan.catch_up_timeout_s, report)
        result.checks += _check(settings, plan, run, reference, ledger, reference_ledger,
                                silver_prefix, report)  # fmt: skip
    finally:
        codes = run.stop()
    result.exits = reference.exits + run.exits
    bad = {n: c for n, c in codes.items() if c != 0}
    result.checks.append(
        Check("clean stop", not bad, f"exit codes {bad}" if bad else "every service exited 0")
    )
    return result


def _check(
    settings: OrionSettings,
    plan: ChaosPlan,
    run: PipelineRun,
    reference: PipelineRun,
    ledger: Path,
    reference_ledger: Path,
    silver_prefix: str,
    report: Report,
) -> list[Check]:
    same = ledger.read_bytes() == reference_ledger.read_bytes()
    checks = [Check("same seed, same ledger", same, "byte-identical" if same else "differ")]
    report("checking the topics against the ledger")
    checks.append(ledger_check(settings, run.prefix, ledger))
    # What the ledger check just read may have reached clean after the loader caught up.
    run.wait_caught_up(plan.catch_up_timeout_s, report)
    checks.append(warehouse_check(run.dsn, reference.dsn))
    checks.append(bronze_check(settings, run.prefix, plan.partitions))
    clean_topics = [run.prefix + e.topic("clean") for e in entities()]
    clean = read_records(settings, clean_topics, timeout_s=600)
    checks.append(silver_check(settings, run.prefix, silver_prefix, clean))
    url = f"http://{load_stack_config().host}:{load_stack_config().prometheus_port}"
    deadline = time.monotonic() + plan.alert_wait_s
    while True:
        alerts = alerts_check(url, _ours(run))
        if alerts.ok or time.monotonic() > deadline:
            break
        report(f"waiting for alerts to clear: {alerts.detail}")
        time.sleep(15)
    checks.append(alerts)
    return checks
