"""A commit that fails because the consumer is dead ends the sink; a rebalance does not."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from sinks.base.offsets import KafkaOffsets


class RefusingConsumer:
    """Only ``commit``, failing with ``error``: the store's logic, no I/O."""

    def __init__(self, error: KafkaError) -> None:
        self.error = error

    def commit(self, **_: Any) -> None:
        raise KafkaException(self.error)


def test_a_fatal_commit_error_is_raised_and_a_rebalance_is_only_reported() -> None:
    store = KafkaOffsets()
    fenced = RefusingConsumer(KafkaError(KafkaError._FATAL, "Commit failed: Local: Fatal error"))
    with pytest.raises(KafkaException):
        store.commit(fenced, {("t", 0): 5})  # type: ignore[arg-type]
    moving = RefusingConsumer(KafkaError(KafkaError.REBALANCE_IN_PROGRESS, "rebalance"))
    assert store.commit(moving, {("t", 0): 5}) is False  # type: ignore[arg-type]
