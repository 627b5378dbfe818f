"""The dq sink's settings: its topics are raw, clean and dlq topics under the prefix."""

from __future__ import annotations

import pytest

from orion.catalog import entities
from orion.exceptions import ConfigurationError
from sinks.dq.configuration import DqSinkConfig, dq_topics


def test_default_topics_are_every_layer_of_every_entity() -> None:
    topics = dq_topics("p.")
    assert len(topics) == 3 * len(entities())
    assert {t.split(".")[1] for t in topics} == {"raw", "clean", "dlq"}
    assert DqSinkConfig(topics=topics, topic_prefix="p.").sink == "dq"


@pytest.mark.parametrize("topics", [(), ("p.silver.erp.sales",), ("raw.erp.sales",)])
def test_other_topics_are_refused(topics: tuple[str, ...]) -> None:
    with pytest.raises(ConfigurationError):
        DqSinkConfig(topics=topics, topic_prefix="p.")


def test_limits_must_be_positive() -> None:
    with pytest.raises(ConfigurationError):
        DqSinkConfig(topics=dq_topics(), max_records=0)
