"""SinkRunner against an in-memory consumer: both offset stores, together-flushes, back-pressure."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from prometheus_client import REGISTRY

from sinks.base import (
    Batch,
    BatchingSink,
    BatchLimits,
    DestinationOffsets,
    KafkaOffsets,
    RunnerOptions,
    SinkBackpressureError,
    SinkRunner,
    TopicPartitionKey,
)

Key = TopicPartitionKey


class Message:
    def __init__(self, topic: str, partition: int, offset: int) -> None:
        self._tp = (topic, partition, offset)

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return self._tp[0]

    def partition(self) -> int:
        return self._tp[1]

    def offset(self) -> int:
        return self._tp[2]

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_700_000_000_000 + self._tp[2])

    def key(self) -> bytes:
        return b"k"

    def value(self) -> bytes:
        return b"v%d" % self._tp[2]

    def headers(self) -> None:
        return None


class FakeConsumer:
    """One topic's partitions in memory; assigns everything on the first consume()."""

    def __init__(self, topic: str, ends: Mapping[int, int], committed: Mapping[int, int]) -> None:
        self.topic = topic
        self.ends = dict(ends)
        self.group_committed = dict(committed)
        self.positions: dict[int, int] = {}
        self.paused: set[int] = set()
        self.commits: list[dict[Key, int]] = []
        self.assigned_with: list[tuple[Key, int]] | None = None
        self._on_assign: Callable[..., None] | None = None
        self.stop = threading.Event()
        self.stop_when: Callable[[], bool] = lambda: False

    def subscribe(self, topics: list[str], **callbacks: Callable[..., None]) -> None:
        assert topics == [self.topic]
        self._on_assign = callbacks["on_assign"]

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned_with = [((tp.topic, tp.partition), tp.offset) for tp in partitions]
        for tp in partitions:
            self.positions[tp.partition] = 0 if tp.offset == OFFSET_BEGINNING else tp.offset

    def consume(self, num: int, timeout: float) -> list[Message]:
        if self.stop_when():
            self.stop.set()
        if self._on_assign is not None:
            callback, self._on_assign = self._on_assign, None
            partitions = [TopicPartition(self.topic, p) for p in sorted(self.ends)]
            callback(self, partitions)
            if self.assigned_with is None:  # not assigned by the callback: the group's offsets
                for p in self.ends:
                    self.positions[p] = self.group_committed.get(p, 0)
        out: list[Message] = []
        for p in sorted(self.positions):
            while p not in self.paused and self.positions[p] < self.ends[p] and len(out) < num:
                out.append(Message(self.topic, p, self.positions[p]))
                self.positions[p] += 1
        return out

    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool) -> None:
        assert not asynchronous
        self.commits.append({(tp.topic, tp.partition): tp.offset for tp in offsets})

    def seek(self, tp: TopicPartition) -> None:
        self.positions[tp.partition] = tp.offset

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.paused |= {tp.partition for tp in partitions}

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.paused -= {tp.partition for tp in partitions}

    def get_watermark_offsets(self, tp: TopicPartition, cached: bool) -> tuple[int, int]:
        return (0, self.ends[tp.partition])

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition, self.positions.get(tp.partition, -1001))
                for tp in partitions]  # fmt: skip


class Recorder(BatchingSink):
    """Records every write; raises back-pressure for the first ``fail`` writes."""

    def __init__(self, limits: BatchLimits, *, fail: int = 0) -> None:
        super().__init__(limits)
        self.fail = fail
        self.writes: list[dict[Key, list[int]]] = []
        self.stored: dict[Key, int] = {}  # what a transactional destination keeps

    def write(self, batch: Batch) -> int:
        return self.write_all([batch])[(batch.topic, batch.partition)]

    def write_all(self, batches: Sequence[Batch]) -> dict[Key, int]:
        if self.fail:
            self.fail -= 1
            raise SinkBackpressureError("down", retry_after=0.0)
        self.writes.append({(b.topic, b.partition): [r.offset for r in b.records] for b in batches})
        done = {(b.topic, b.partition): b.last_offset + 1 for b in batches}
        self.stored.update(done)
        return done


class Together(Recorder):
    """Like the warehouse: every buffer in one write."""

    flushes_together = True


def run_until(consumer: FakeConsumer, runner: SinkRunner, done: Callable[[], bool]) -> None:
    """Run until ``done()`` holds at the start of a consume(), then the stop-flush."""
    consumer.stop_when = done
    runner.run(consumer.stop)


def test_destination_offsets_assign_at_the_stored_offsets_and_never_commit_to_kafka() -> None:
    consumer = FakeConsumer("t", ends={0: 10, 1: 6, 2: 4}, committed={0: 1, 1: 1, 2: 1})
    sink = Together(BatchLimits(max_records=1000, max_age_s=60))
    sink.stored = {("t", 0): 7, ("t", 1): 2}  # partition 2 never loaded: from the beginning
    runner = SinkRunner(
        cast(Consumer, consumer),
        sink,
        ["t"],
        offsets=DestinationOffsets(lambda topics: dict(sink.stored)),
        options=RunnerOptions(name="unit"),
    )
    run_until(consumer, runner, lambda: consumer.positions == consumer.ends)
    assert consumer.assigned_with == [(("t", 0), 7), (("t", 1), 2), (("t", 2), OFFSET_BEGINNING)]
    # The stop-flush writes every partition together, in one call, from where each started.
    assert sink.writes == [{("t", 0): [7, 8, 9], ("t", 1): [2, 3, 4, 5], ("t", 2): [0, 1, 2, 3]}]
    assert consumer.commits == []
    assert runner.stats.commits == 1 and runner.stats.committed == {
        ("t", 0): 10,
        ("t", 1): 6,
        ("t", 2): 4,
    }


def test_a_together_flush_is_due_when_all_buffers_reach_the_limit() -> None:
    consumer = FakeConsumer("t", ends={0: 3, 1: 3}, committed={})
    sink = Together(BatchLimits(max_records=4, max_age_s=60))
    runner = SinkRunner(
        cast(Consumer, consumer), sink, ["t"], offsets=DestinationOffsets(lambda topics: {})
    )
    run_until(consumer, runner, lambda: bool(sink.writes))
    # Four records in all (3 of partition 0, 1 of partition 1) fill the one batch.
    # The rest is written by the stop-flush.
    assert sink.writes == [{("t", 0): [0, 1, 2], ("t", 1): [0]}, {("t", 1): [1, 2]}]


def test_back_pressure_rewinds_every_partition_of_the_write_and_retries() -> None:
    consumer = FakeConsumer("t", ends={0: 3, 1: 2}, committed={})
    sink = Together(BatchLimits(max_records=5, max_age_s=60), fail=2)
    runner = SinkRunner(
        cast(Consumer, consumer), sink, ["t"], offsets=DestinationOffsets(lambda topics: {})
    )
    run_until(consumer, runner, lambda: bool(sink.writes))
    assert runner.stats.backoffs == 2
    assert sink.writes == [{("t", 0): [0, 1, 2], ("t", 1): [0, 1]}]  # nothing lost or doubled
    assert sink.stored == {("t", 0): 3, ("t", 1): 2}


def test_kafka_offsets_start_at_the_group_commit_and_commit_each_partition_after_its_write() -> (
    None
):
    consumer = FakeConsumer("t", ends={0: 4, 1: 5}, committed={0: 2, 1: 0})
    sink = Recorder(BatchLimits(max_records=2, max_age_s=60), fail=1)
    runner = SinkRunner(cast(Consumer, consumer), sink, ["t"], offsets=KafkaOffsets())
    run_until(consumer, runner, lambda: {("t", 0): 4} in consumer.commits)
    assert consumer.assigned_with is None  # the group's committed offsets, not an assign()
    assert runner.stats.backoffs == 1
    assert [w for w in sink.writes if ("t", 0) in w] == [{("t", 0): [2, 3]}]
    # Partition 1 goes on while partition 0 is paused; its last record is the stop-flush's.
    assert [w[("t", 1)] for w in sink.writes if ("t", 1) in w] == [[0, 1], [2, 3], [4]]
    assert all(len(c) == 1 for c in consumer.commits)  # one partition per commit
    assert runner.stats.committed == {("t", 0): 4, ("t", 1): 5}


class Slow(Recorder):
    """A per-partition sink whose every write takes ``seconds``; logs writes in ``events``."""

    def __init__(self, limits: BatchLimits, events: list[str], seconds: float) -> None:
        super().__init__(limits)
        self.events, self.seconds = events, seconds

    def write_all(self, batches: Sequence[Batch]) -> dict[Key, int]:
        time.sleep(self.seconds)
        self.events += [f"write {b.partition}" for b in batches]
        return super().write_all(batches)


def test_age_flushes_of_one_turn_stop_after_the_budget_and_go_on_after_a_consume() -> None:
    events: list[str] = []
    consumer = FakeConsumer("t", ends={p: 2 for p in range(4)}, committed={})
    polled = consumer.consume

    def consume(num: int, timeout: float) -> list[Message]:
        events.append("consume")
        return polled(num, timeout)

    consumer.consume = consume  # type: ignore[method-assign]
    sink = Slow(BatchLimits(max_records=100, max_age_s=0.01), events, seconds=0.3)
    runner = SinkRunner(cast(Consumer, consumer), sink, ["t"],
                        options=RunnerOptions(name="unit", flush_budget_s=0.5))  # fmt: skip
    run_until(consumer, runner, lambda: len(sink.writes) == 4)
    writes = [e for e in events if e.startswith("write")]
    assert sorted(writes) == ["write 0", "write 1", "write 2", "write 3"]  # each once
    turns = " ".join(events).split("consume")
    assert max(t.count("write") for t in turns) <= 2  # 0.3 s, 0.6 s > 0.5: the rest waits


def _last_commit(name: str) -> float:
    got = REGISTRY.get_sample_value("orion_sink_last_commit_timestamp_seconds", {"sink": name})
    return got or 0.0


def test_a_caught_up_idle_sink_counts_as_durable_now_and_a_stuck_one_does_not() -> None:
    consumer = FakeConsumer("t", ends={0: 3, 1: 2}, committed={})
    sink = Recorder(BatchLimits(max_records=1, max_age_s=60))
    runner = SinkRunner(cast(Consumer, consumer), sink, ["t"],
                        options=RunnerOptions(name="idle-unit", lag_interval_s=0.05))  # fmt: skip
    started = time.monotonic()
    run_until(consumer, runner, lambda: time.monotonic() - started > 0.5)
    assert runner.stats.committed == {("t", 0): 3, ("t", 1): 2}  # then idle for ~0.5 s
    assert time.time() - _last_commit("idle-unit") < 0.3  # kept fresh without a commit

    consumer = FakeConsumer("t", ends={0: 3}, committed={})
    stuck = Recorder(BatchLimits(max_records=1, max_age_s=60), fail=10**6)  # never writes
    runner = SinkRunner(cast(Consumer, consumer), stuck, ["t"],
                        options=RunnerOptions(name="stuck-unit", lag_interval_s=0.05))  # fmt: skip
    started = time.monotonic()
    run_until(consumer, runner, lambda: time.monotonic() - started > 0.5)
    assert _last_commit("stuck-unit") == 0.0  # paused and behind: never counts as caught up


def test_consume_waits_no_longer_than_the_oldest_buffer_has_left() -> None:
    timeouts: list[float] = []
    consumer = FakeConsumer("t", ends={0: 1}, committed={})
    polled = consumer.consume

    def consume(num: int, timeout: float) -> list[Message]:
        timeouts.append(timeout)
        return polled(num, timeout)

    consumer.consume = consume  # type: ignore[method-assign]
    sink = Recorder(BatchLimits(max_records=100, max_age_s=0.2))
    runner = SinkRunner(cast(Consumer, consumer), sink, ["t"],
                        options=RunnerOptions(name="unit", poll_timeout_s=5.0))  # fmt: skip
    run_until(consumer, runner, lambda: len(sink.writes) == 1)
    assert sink.writes == [{("t", 0): [0]}]
    assert timeouts[0] == 5.0  # nothing buffered yet
    buffered = timeouts[1:-1]  # the record waited for its age; then the write, then stop
    assert buffered and all(t <= 0.2 for t in buffered)
    assert timeouts[-1] == 5.0  # written: the full timeout again
