"""Per-service ACLs on the real secured broker: each principal does its job and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer

from orion.settings import OrionSettings
from orionctl.stack.config import StackConfig
from orionctl.stack.kafka_access import service_env

pytestmark = pytest.mark.integration


def _config_of(settings: OrionSettings, env: dict[str, str]) -> dict[str, Any]:
    return {
        **settings.kafka_client_config(),
        "sasl.username": env["ORION_KAFKA_SASL_USERNAME"],
        "sasl.password": env["ORION_KAFKA_SASL_PASSWORD"],
    }


def _send(conf: dict[str, Any], topic: str, idempotent: bool = True) -> KafkaError | None:
    """The delivery result of one record to ``topic`` (None: written)."""
    results: list[KafkaError | None] = []
    producer = Producer({**conf, "message.timeout.ms": 8000, "enable.idempotence": idempotent})
    producer.produce(topic, b"x", on_delivery=lambda err, _msg: results.append(err))
    producer.flush(15)
    assert len(results) == 1
    return results[0]


def test_the_producer_writes_raw_only(
    settings: OrionSettings, stack_config: StackConfig, topic_namespace: str
) -> None:
    conf = _config_of(settings, service_env(stack_config, "producer", topic_namespace))
    assert _send(conf, topic_namespace + "raw.erp.sales") is None
    for forbidden in ("clean.erp.sales", "dlq.erp.sales"):
        err = _send(conf, topic_namespace + forbidden)
        assert err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_a_sink_writes_no_topic(
    settings: OrionSettings, stack_config: StackConfig, topic_namespace: str
) -> None:
    conf = _config_of(settings, service_env(stack_config, "sink-warehouse", topic_namespace))
    for layer in ("raw", "clean", "dlq"):
        # Not idempotent: an idempotent producer stops at the cluster ACL before any topic.
        err = _send(conf, f"{topic_namespace}{layer}.erp.sales", idempotent=False)
        assert err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_grants_are_per_topic_prefix(
    settings: OrionSettings, stack_config: StackConfig, topic_namespace: str
) -> None:
    """The producer granted under the empty prefix cannot write another namespace's raw topics."""
    conf = _config_of(settings, service_env(stack_config, "producer"))
    err = _send(conf, topic_namespace + "raw.erp.sales")
    assert err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
