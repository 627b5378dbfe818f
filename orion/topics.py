"""Create every topic of the pipeline with explicit partitions, retention and compaction.

The broker auto-creates nothing, so this is the one place topics come from.
Clean master-data topics are compacted (the latest record per business key is
the dimension's current state); raw topics keep their full history for the
bronze archive to read; dead letters are kept longest, for people to inspect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from orion.catalog import Entity, entities
from orion.exceptions import ConfigurationError, ServiceUnavailableError
from orion.kafka_config import KafkaConfig, bootstrap_of
from orion.kafka_refusal import check_access

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def topic_specs(
    partitions: int = 6,
    retention_days: float = 7.0,
    dlq_retention_days: float = 30.0,
    *,
    prefix: str = "",
) -> list[TopicSpec]:
    """The raw, clean and dead-letter topic of every entity, named under ``prefix``."""
    if partitions < 1:
        raise ConfigurationError(f"partitions must be >= 1, got {partitions}")
    if retention_days <= 0 or dlq_retention_days <= 0:
        raise ConfigurationError("retention must be a positive number of days")
    retention = str(int(retention_days * DAY_MS))
    dlq = {"retention.ms": str(int(dlq_retention_days * DAY_MS))}
    specs: list[TopicSpec] = []
    for entity in entities():
        specs += [
            TopicSpec(prefix + entity.topic("raw"), partitions, {"retention.ms": retention}),
            TopicSpec(prefix + entity.topic("clean"), partitions, _clean_config(entity, retention)),
            TopicSpec(prefix + entity.topic("dlq"), partitions, dict(dlq)),
        ]
    return specs


def _clean_config(entity: Entity, retention: str) -> dict[str, str]:
    if entity.master:
        return {"cleanup.policy": "compact", "min.compaction.lag.ms": str(3600 * 1000)}
    return {"retention.ms": retention}


def existing_topics(client: Any, kafka: KafkaConfig, timeout_s: float = 30.0) -> set[str]:
    """Topic names on the broker (``client``: any confluent-kafka client built from ``kafka``);
    ConfigurationError when the broker refuses the credentials or certificate,
    ServiceUnavailableError with the fix when it does not answer."""
    check_access(kafka, timeout_s)
    bootstrap = bootstrap_of(kafka)
    try:
        return set(client.list_topics(timeout=timeout_s).topics)
    except KafkaException as e:
        raise ServiceUnavailableError(
            f"Kafka at {bootstrap} did not answer within {timeout_s:.0f}s: {e}",
            fix="start it (`orion stack up`) or correct ORION_KAFKA_BOOTSTRAP",
        ) from e


def replication_for(brokers: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of ``brokers``: three copies
    where there are three nodes, and acks=all writes that survive one node lost."""
    factor = max(1, min(3, brokers))
    return factor, max(1, min(2, factor - 1))


def create_topics(
    kafka: KafkaConfig,
    specs: list[TopicSpec],
    timeout_s: float = 30.0,
    *,
    replication_factor: int | None = None,
    min_insync_replicas: int | None = None,
) -> dict[str, str]:
    """Create what is missing; returns topic -> "created" | "exists". Never alters a topic.

    Replication not given follows the cluster's size (:func:`replication_for`):
    1 on the one-node stack, 3 and ``min.insync.replicas=2`` on three or more.
    """
    admin = AdminClient(dict(kafka))
    existing = existing_topics(admin, kafka, timeout_s)
    result = {s.name: "exists" for s in specs if s.name in existing}
    brokers = len(admin.list_topics(timeout=timeout_s).brokers)
    default_factor, default_isr = replication_for(brokers)
    factor = default_factor if replication_factor is None else replication_factor
    min_isr = min(default_isr, factor) if min_insync_replicas is None else min_insync_replicas
    if not 1 <= factor <= brokers:
        raise ConfigurationError(
            f"replication factor {factor} needs {factor} brokers; the cluster has {brokers}"
        )
    if not 1 <= min_isr <= factor:
        raise ConfigurationError(
            f"min.insync.replicas must be 1 to the replication factor ({factor}), got {min_isr}"
        )
    new = [
        NewTopic(
            s.name,
            num_partitions=s.partitions,
            replication_factor=factor,
            config={"min.insync.replicas": str(min_isr), **s.config},
        )
        for s in specs
        if s.name not in existing
    ]
    if new:
        for name, future in admin.create_topics(new, request_timeout=timeout_s).items():
            future.result(timeout=timeout_s)
            result[name] = "created"
    return result
