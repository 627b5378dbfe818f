"""Start one processor worker: check topics, register schemas, run the engine until stopped.

Who calls it: ``orion process``. Everything that can be wrong with the
configuration or the environment (topics missing or with unequal partition
counts, broker or registry unreachable, bad data dir) is raised as an
:class:`~orion.exceptions.OrionError` before the worker starts.

Local RocksDB state is a cache of the changelog topics: each worker process
uses a directory of its own (``<data dir>/<app id>/<instance>``), wiped when
it starts and removed when it stops, so a restarted worker always rebuilds
its state from the changelogs and never trusts what a killed process wrote.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]

from orion.catalog import entities
from orion.exceptions import ConfigurationError, ServiceUnavailableError
from orion.kafka_config import KafkaConfig, bootstrap_of
from orion.kafka_refusal import check_access
from orion.registry import Registry
from orion.settings import OrionSettings
from stream_processors.barriers import BarrierLookup
from stream_processors.configuration import ProcessorConfig
from stream_processors.engine import Engine, state_dir
from stream_processors.engine.changelog import ensure_changelogs
from stream_processors.pipeline import Pipeline
from stream_processors.processor import Processor
from stream_processors.references import ReferenceTracker
from stream_processors.rules import REFERENT_STEMS
from stream_processors.watchdog import Watchdog

__all__ = ["Worker", "build", "check_topics", "run"]

log = logging.getLogger("orion.processor")


def check_topics(admin: AdminClient, prefix: str, kafka: KafkaConfig) -> int:
    """The common partition count of every raw, clean and dlq topic; else OrionError
    (a ConfigurationError naming the variable when the broker refuses the credentials)."""
    check_access(kafka, timeout_s=10)
    bootstrap = bootstrap_of(kafka)
    try:
        meta = admin.list_topics(timeout=10).topics
    except KafkaException as e:
        raise ServiceUnavailableError(
            f"Kafka at {bootstrap} did not answer: {e}",
            fix="start it (`orion stack up`) or correct ORION_KAFKA_BOOTSTRAP",
        ) from e
    wanted = [prefix + e.topic(layer) for e in entities() for layer in ("raw", "clean", "dlq")]
    missing = [t for t in wanted if t not in meta]
    if missing:
        raise ConfigurationError(
            f"topics missing on {bootstrap}: {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""),
            fix="create them with `orion topics create`",
        )
    counts = {len(meta[t].partitions) for t in wanted}
    if len(counts) != 1:
        raise ConfigurationError(
            f"raw, clean and dlq topics have different partition counts {sorted(counts)}",
            fix="exactly-once needs one partition count for all pipeline topics",
        )
    return counts.pop()


def _retention(admin: AdminClient, topics: list[str]) -> dict[str, int | None]:
    """retention.ms of each topic, None where it is compacted (kept for ever)."""
    out: dict[str, int | None] = {}
    futures = admin.describe_configs([ConfigResource("topic", t) for t in topics])
    for res, fut in futures.items():
        cfg = fut.result(timeout=10)
        compacted = "compact" in cfg["cleanup.policy"].value
        ms = int(cfg["retention.ms"].value)
        out[res.name] = None if compacted or ms < 0 else ms
    return out


@dataclass
class Worker:
    engine: Engine
    tracker: ReferenceTracker
    barriers: BarrierLookup
    watchdog: Watchdog

    @property
    def ready(self) -> bool:
        return self.engine.assigned and self.tracker.ready is not None


def build(settings: OrionSettings, config: ProcessorConfig) -> Worker:
    """A ready-to-run worker; OrionError if anything is off."""
    prefix = settings.topic_prefix
    kafka = settings.kafka_client_config()
    admin = AdminClient(kafka)
    partitions = check_topics(admin, prefix, kafka)
    app_id = config.full_app_id(prefix)
    ensure_changelogs(admin, app_id, partitions)
    registry = Registry.of(settings)
    pipeline = Pipeline(registry, prefix)  # registers clean schemas; fails fast if unreachable
    stems = [e.stem for e in entities()]
    clean = {prefix + "clean." + s: s for s in REFERENT_STEMS}
    tracker = ReferenceTracker(
        kafka, app_id, clean, [prefix + "raw." + s for s in REFERENT_STEMS],
        [prefix + "raw." + s for s in stems], partitions, _retention(admin, list(clean)),
    )  # fmt: skip
    barriers = BarrierLookup(kafka, int(config.reference_grace_s * 1000))
    processor = Processor(pipeline, prefix, stems, partitions, tracker, barriers)
    try:
        directory = state_dir(config.data_dir, app_id, config.instance)
    except OSError as e:
        raise ConfigurationError(
            f"cannot create the state directory under {config.data_dir}: {e}",
            fix="pass a writable --data-dir or set ORION_PROCESSOR_DATA_DIR",
        ) from e
    engine = Engine(kafka=kafka, prefix=prefix, config=config, processor=processor,
                    tracker=tracker, state_dir=directory)  # fmt: skip
    watchdog = Watchdog(engine.phase, config.stall_after_s, config.exit_when_stuck_s, exit_stuck)
    return Worker(engine, tracker, barriers, watchdog)


def exit_stuck(phase: str, for_s: float) -> None:
    """Leave at once with status 1: the engine's thread is inside a call that never returns.

    No clean-up: closing the clients would wait on that call too. Nothing is
    lost: the open transaction never commits, and the restarted worker fences it.
    """
    log.error("worker stuck; exiting for its supervisor to restart it",
              extra={"phase": phase, "for_s": round(for_s)})  # fmt: skip
    print(f"error: the worker was stuck {for_s:.0f}s in '{phase}'; exiting with status 1 "
          "for its supervisor to restart it", file=sys.stderr, flush=True)  # fmt: skip
    logging.shutdown()
    os._exit(1)


def run(
    settings: OrionSettings,
    config: ProcessorConfig,
    stop: threading.Event,
    on_ready: Callable[[Worker], None] | None = None,
) -> None:
    """Run one worker until ``stop`` is set; EngineFatalError when it must exit."""
    worker = build(settings, config)
    if on_ready is not None:
        on_ready(worker)
    worker.tracker.start()
    worker.watchdog.start()
    log.info("processor started", extra={"app_id": worker.engine.app_id,
                                         "instance": config.instance})  # fmt: skip
    try:
        worker.engine.run(stop)
    finally:
        worker.watchdog.stop()
        worker.tracker.stop()
        worker.barriers.close()
        shutil.rmtree(worker.engine.state_dir, ignore_errors=True)
