"""Consumer-group offsets: read them, measure lag, and plan or apply a rewind.

A rewind is always planned first (current and new offset per partition) and
applied only on request, and never while the group has active members: a
running consumer would overwrite the new offsets with its own next commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from orion.exceptions import ConfigurationError, OrionError, ServiceUnavailableError
from orion.kafka_config import KafkaConfig, bootstrap_of

R = TypeVar("R")
TIMEOUT_S = 15.0
#: What a group coordinator answers while it loads or moves (the admin API does not
#: always flag these as retriable).
_COORDINATOR_BUSY = {
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR,
}
#: What a partition answers while its leader is being elected (a broker restarted);
#: _NOENT is librdkafka's "Failed to query partition leaders: No leaders found".
_LEADER_MOVING = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_LEADER_EPOCH,
    KafkaError.FENCED_LEADER_EPOCH,
    KafkaError._NOENT,
}
EARLIEST: OffsetSpec = OffsetSpec.earliest()  # type: ignore[no-untyped-call]
LATEST: OffsetSpec = OffsetSpec.latest()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class PartitionOffsets:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed if self.committed is not None else 0)


@dataclass(frozen=True)
class ResetTarget:
    """Exactly one way to choose the new offsets."""

    to_datetime: datetime | None = None
    by_duration: timedelta | None = None
    to_offset: int | None = None
    to_earliest: bool = False

    def __post_init__(self) -> None:
        chosen = [self.to_datetime, self.by_duration, self.to_offset, self.to_earliest or None]
        if sum(x is not None for x in chosen) != 1:
            raise ConfigurationError(
                "choose exactly one of --to-datetime, --by-duration, --to-offset, --to-earliest"
            )


@dataclass(frozen=True)
class PlannedReset:
    topic: str
    partition: int
    current: int | None
    new: int


class ActiveGroupError(OrionError):
    """The group has members; its offsets cannot be changed safely now."""


def _admin(kafka: KafkaConfig) -> AdminClient:
    return _cached_admin(tuple(sorted(kafka.items())))


@cache
def _cached_admin(kafka: tuple[tuple[str, str], ...]) -> AdminClient:
    # One client per process and broker: a client that is garbage collected while
    # its futures are pending never completes them.
    return AdminClient(dict(kafka))


def _unavailable(what: str, kafka: KafkaConfig, e: KafkaException) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        f"{what} failed on {bootstrap_of(kafka)}: {e}",
        fix="check that Kafka runs (`orion stack status`)",
    )


def _wait(future: Any, what: str, kafka: KafkaConfig) -> Any:
    try:
        return future.result(timeout=TIMEOUT_S)
    except KafkaException as e:
        raise _unavailable(what, kafka, e) from e


def _ask_coordinator(submit: Callable[[], Any], what: str, kafka: KafkaConfig) -> Any:
    """``submit()``'s future's result, asked again while the error is retriable.

    For a while after a broker restart the group coordinator answers
    COORDINATOR_LOAD_IN_PROGRESS (or NOT_COORDINATOR while it moves); the request
    is fine and succeeds once the offsets topic is loaded, so only a
    non-retriable error or TIMEOUT_S of retriable ones is an error.
    """
    return _ask_again(lambda: submit().result(timeout=TIMEOUT_S), what, kafka)


def _ask_again(call: Callable[[], R], what: str, kafka: KafkaConfig) -> R:
    """``call()``, again while it fails with a retriable error (a busy coordinator, a
    leader being elected), for at most TIMEOUT_S; any other error at once."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            return call()
        except KafkaException as e:
            err = e.args[0] if e.args else None
            retriable = isinstance(err, KafkaError) and (
                err.retriable() or err.code() in _COORDINATOR_BUSY | _LEADER_MOVING
            )
            if not retriable or time.monotonic() > deadline:
                raise _unavailable(what, kafka, e) from e
            time.sleep(0.5)


def groups(kafka: KafkaConfig) -> list[str]:
    result = _wait(
        _admin(kafka).list_consumer_groups(request_timeout=TIMEOUT_S),
        "listing consumer groups",
        kafka,
    )
    return sorted(g.group_id for g in result.valid)


def committed_offsets(kafka: KafkaConfig, group: str) -> dict[tuple[str, int], int | None]:
    admin = _admin(kafka)
    result = _ask_coordinator(
        lambda: admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)], request_timeout=TIMEOUT_S
        )[group],
        f"reading offsets of {group}",
        kafka,
    )
    return {
        (tp.topic, tp.partition): (tp.offset if tp.offset >= 0 else None)
        for tp in result.topic_partitions
    }


def list_offsets(
    kafka: KafkaConfig, partitions: list[tuple[str, int]], spec: OffsetSpec
) -> dict[tuple[str, int], int]:
    if not partitions:
        return {}
    admin = _admin(kafka)

    def ask() -> dict[tuple[str, int], int]:
        futures = admin.list_offsets(
            {TopicPartition(t, p): spec for t, p in partitions}, request_timeout=TIMEOUT_S
        )
        return {(tp.topic, tp.partition): f.result(timeout=TIMEOUT_S).offset
                for tp, f in futures.items()}  # fmt: skip

    return _ask_again(ask, "listing offsets", kafka)  # through a leader election: _LEADER_MOVING


def topic_partitions(kafka: KafkaConfig, topics: list[str]) -> list[tuple[str, int]]:
    meta = _admin(kafka).list_topics(timeout=TIMEOUT_S)
    missing = [t for t in topics if t not in meta.topics]
    if missing:
        raise ConfigurationError(
            f"no such topic(s): {', '.join(missing)}",
            fix="check the names with `orion lag` or create them",
        )
    return [(t, p) for t in topics for p in sorted(meta.topics[t].partitions)]


def lag(kafka: KafkaConfig, group: str) -> list[PartitionOffsets]:
    committed = committed_offsets(kafka, group)
    ends = list_offsets(kafka, sorted(committed), LATEST)
    return [
        PartitionOffsets(group, t, p, committed[(t, p)], ends[(t, p)]) for t, p in sorted(committed)
    ]


def active_members(kafka: KafkaConfig, group: str) -> int:
    described = _ask_coordinator(
        lambda: _admin(kafka).describe_consumer_groups([group], request_timeout=TIMEOUT_S)[group],
        f"describing {group}",
        kafka,
    )
    return len(described.members)


def plan_reset(
    kafka: KafkaConfig,
    group: str,
    topics: list[str] | None,
    target: ResetTarget,
    committed: dict[tuple[str, int], int | None] | None = None,
) -> list[PlannedReset]:
    """Where each partition of ``topics`` (default: those the group committed) would move.

    ``committed`` replaces the group's Kafka offsets for a sink that keeps its
    own (see :mod:`orionctl.ops.sink_offsets`).
    """
    if committed is None:
        committed = committed_offsets(kafka, group)
    parts = topic_partitions(kafka, topics) if topics else sorted(committed)
    if not parts:
        raise ConfigurationError(
            f"group {group!r} has no committed offsets", fix="name the topics with --topics"
        )
    earliest = list_offsets(kafka, parts, EARLIEST)
    latest = list_offsets(kafka, parts, LATEST)
    if target.to_earliest:
        new = earliest
    elif target.to_offset is not None:
        new = {tp: min(max(target.to_offset, earliest[tp]), latest[tp]) for tp in parts}
    else:
        when = target.to_datetime or datetime.now(UTC) - (target.by_duration or timedelta())
        by_time = list_offsets(kafka, parts, OffsetSpec.for_timestamp(int(when.timestamp() * 1000)))
        # -1: no record at or after that time, so the partition moves to its end.
        new = {tp: (o if o >= 0 else latest[tp]) for tp, o in by_time.items()}
    return [PlannedReset(t, p, committed.get((t, p)), new[(t, p)]) for t, p in parts]


def ensure_inactive(kafka: KafkaConfig, group: str) -> None:
    """ActiveGroupError when ``group`` has members: their next commit would undo a rewind."""
    members = active_members(kafka, group)
    if members:
        raise ActiveGroupError(
            f"group {group!r} has {members} active member(s); offsets were not changed",
            fix="stop its consumers (e.g. the sink's service), then run the command again",
        )


def apply_reset(kafka: KafkaConfig, group: str, plan: list[PlannedReset]) -> None:
    """Commit the planned offsets for ``group``; refuses while the group has members."""
    ensure_inactive(kafka, group)
    request = ConsumerGroupTopicPartitions(
        group, [TopicPartition(r.topic, r.partition, r.new) for r in plan]
    )
    _ask_coordinator(
        lambda: _admin(kafka).alter_consumer_group_offsets([request], request_timeout=TIMEOUT_S)[
            group
        ],
        f"changing offsets of {group}",
        kafka,
    )
