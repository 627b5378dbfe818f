"""Stored offsets read on assignment wait out a database restart, then give up (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from orion.exceptions import ConfigurationError
from sinks.base.batch import TopicPartitionKey
from sinks.base.offsets import DestinationOffsets
from sinks.dq.exceptions import DqUnavailableError
from sinks.warehouse.exceptions import WarehouseUnavailableError


class Database:
    """Answers ``read`` after ``down`` refusals; records which topics were asked for."""

    def __init__(self, down: int, error: Exception) -> None:
        self.down, self.error, self.asked = down, error, 0

    def read(self, topics: list[str]) -> Mapping[TopicPartitionKey, int]:
        self.asked += 1
        if self.asked <= self.down:
            raise self.error
        return {("a", 0): 7, ("a", 1): 9, ("b", 0): 3}


@pytest.mark.parametrize(
    "error", [WarehouseUnavailableError("connection refused"), DqUnavailableError("gone")]
)
def test_a_database_restarting_at_assignment_is_asked_again(error: Exception) -> None:
    db = Database(down=2, error=error)
    store = DestinationOffsets(db.read, patience_s=10)
    assert store.starting([("a", 0), ("b", 1)]) == {("a", 0): 7}  # ("b", 1): never loaded
    assert db.asked == 3


def test_a_database_down_for_longer_than_the_patience_ends_the_run() -> None:
    db = Database(down=100, error=WarehouseUnavailableError("connection refused"))
    store = DestinationOffsets(db.read, patience_s=1.0)
    with pytest.raises(WarehouseUnavailableError, match="connection refused"):
        store.starting([("a", 0)])
    assert 1 <= db.asked <= 2  # 0.5 s, then the next 1 s pause would pass the deadline


def test_other_errors_are_not_retried() -> None:
    db = Database(down=1, error=ConfigurationError("no table metadata.sink_offsets"))
    with pytest.raises(ConfigurationError):
        DestinationOffsets(db.read).starting([("a", 0)])
    assert db.asked == 1
