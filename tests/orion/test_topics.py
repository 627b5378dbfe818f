"""Topic creation: every pipeline topic, with partitions, retention and compaction."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    ResourceType,
)

from orion.catalog import entities
from orion.exceptions import ConfigurationError
from orion.settings import OrionSettings
from orion.topics import create_topics, topic_specs


def test_specs_cover_three_topics_per_entity_and_compact_master_data() -> None:
    specs = {s.name: s for s in topic_specs(partitions=4, retention_days=2)}
    assert len(specs) == 3 * len(entities())
    assert specs["clean.crm.customers"].config["cleanup.policy"] == "compact"
    assert "cleanup.policy" not in specs["clean.erp.sales"].config
    assert specs["raw.erp.sales"].config["retention.ms"] == str(2 * 24 * 3600 * 1000)
    assert {s.partitions for s in specs.values()} == {4}


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        topic_specs(partitions=0)
    with pytest.raises(ConfigurationError):
        topic_specs(retention_days=0)


@pytest.mark.integration
def test_create_is_idempotent_and_applies_the_config(settings: OrionSettings) -> None:
    specs = topic_specs()
    create_topics(settings.kafka_client_config(), specs)
    again = create_topics(settings.kafka_client_config(), specs)
    assert set(again.values()) == {"exists"}
    admin = AdminClient(settings.kafka_client_config())
    meta = admin.list_topics(timeout=10)
    assert len(meta.topics["raw.iot.telemetry"].partitions) == 6
    resource = ConfigResource(ResourceType.TOPIC, "clean.erp.vehicles")
    config = admin.describe_configs([resource])[resource].result(timeout=10)
    assert config["cleanup.policy"].value == "compact"
