"""Start one processor worker: check topics, register schemas, run Faust until stopped.

Who calls it: ``orion process``. Everything that can be wrong with the
configuration or the environment (topics missing or with unequal partition
counts, broker or registry unreachable, bad data dir) is raised as an
:class:`~orion.exceptions.OrionError` before the worker starts.

Local RocksDB state is a cache of the changelog topics: each worker process
uses a directory of its own (``<data dir>/<app id>/<pid>``), removed when it
stops; directories of dead workers are removed at start-up. So a restarted
worker always rebuilds its tables from the changelogs, and never trusts
state a killed process wrote outside a committed transaction.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import faust
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from orion.catalog import entities
from orion.exceptions import ConfigurationError, ServiceUnavailableError
from orion.registry import Registry
from orion.settings import OrionSettings
from stream_processors.app import Processor
from stream_processors.configuration import ProcessorConfig
from stream_processors.pipeline import Pipeline

__all__ = ["build", "check_topics", "run"]

log = logging.getLogger("orion.processor")


def check_topics(admin: AdminClient, prefix: str, bootstrap: str) -> int:
    """The common partition count of every raw, clean and dlq topic; else OrionError."""
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


def _ensure_topic(admin: AdminClient, name: str, partitions: int) -> None:
    if name in admin.list_topics(timeout=10).topics:
        return
    fut = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                        config={"retention.ms": "3600000"})])[name]  # fmt: skip
    with contextlib.suppress(KafkaException):  # created meanwhile by another worker
        fut.result(timeout=30)


def _worker_dir(config: ProcessorConfig, app_id: str) -> Path:
    base = config.data_dir.resolve() / app_id
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigurationError(
            f"cannot create data dir {base}: {e}", fix="pass a writable --data-dir"
        ) from e
    for old in base.iterdir():
        if old.name.isdigit() and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    mine = base / str(os.getpid())
    shutil.rmtree(mine, ignore_errors=True)
    mine.mkdir()
    return mine


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def build(settings: OrionSettings, config: ProcessorConfig) -> tuple[Processor, Path]:
    """A ready-to-run processor and its private data dir; OrionError if anything is off."""
    prefix = settings.topic_prefix
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    partitions = check_topics(admin, prefix, settings.kafka_bootstrap)
    app_id = config.full_app_id(prefix)
    _ensure_topic(admin, f"{app_id}-ticks", partitions)
    registry = Registry(settings.schema_registry_url)
    pipeline = Pipeline(registry, prefix)  # registers clean schemas; fails fast if unreachable
    datadir = _worker_dir(config, app_id)
    processor = Processor(
        bootstrap=settings.kafka_bootstrap,
        prefix=prefix,
        config=config,
        pipeline=pipeline,
        stems=[e.stem for e in entities()],
        partitions=partitions,
        datadir=str(datadir),
    )
    return processor, datadir


def run(
    settings: OrionSettings,
    config: ProcessorConfig,
    on_ready: Callable[[Processor], None] | None = None,
) -> None:
    """Run one worker until SIGINT/SIGTERM; returns after a clean shutdown."""
    processor, datadir = build(settings, config)
    if on_ready is not None:
        on_ready(processor)
    worker = faust.Worker(
        processor.app,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
    )
    processor.start()
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
    finally:
        processor.close()
        shutil.rmtree(datadir, ignore_errors=True)
