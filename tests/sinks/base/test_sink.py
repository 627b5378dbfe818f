"""BatchingSink's contract with plain values: limits, rotation, clearing in finally, drop."""

from __future__ import annotations

import pytest

from sinks.base import Batch, BatchingSink, BatchLimits, KafkaRecord, SinkBackpressureError


def rec(offset: int, partition: int = 0, value: bytes = b"v") -> KafkaRecord:
    return KafkaRecord("t", partition, offset, 1_000 + offset, 1, b"k", value, ())


class ListSink(BatchingSink):
    """Keeps written batches in a list; fails on demand."""

    def __init__(self, limits: BatchLimits) -> None:
        super().__init__(limits)
        self.written: list[list[int]] = []
        self.fail = False

    def write(self, batch: Batch) -> int:
        if self.fail:
            raise SinkBackpressureError("down", retry_after=1.0)
        self.written.append([r.offset for r in batch.records])
        return batch.last_offset + 1


def test_full_by_records_or_bytes_and_flush_returns_next_offset() -> None:
    sink = ListSink(BatchLimits(max_records=3, max_bytes=10_000))
    for i in range(3):
        assert not sink.is_full(("t", 0))
        sink.append(rec(i))
    assert sink.is_full(("t", 0))
    assert sink.flush(("t", 0)) == 3
    assert sink.written == [[0, 1, 2]] and sink.batch(("t", 0)) is None
    assert sink.flush(("t", 0)) is None

    by_bytes = ListSink(BatchLimits(max_records=1000, max_bytes=200))
    by_bytes.append(rec(0, value=b"x" * 150))
    assert by_bytes.is_full(("t", 0))


def test_a_failed_write_still_clears_the_buffer() -> None:
    sink = ListSink(BatchLimits())
    sink.append(rec(7))
    sink.fail = True
    with pytest.raises(SinkBackpressureError) as info:
        sink.flush(("t", 0))
    assert info.value.retry_after == 1.0
    assert sink.batch(("t", 0)) is None and sink.pending() == []


def test_age_is_wall_clock_per_partition_and_drop_forgets_buffers() -> None:
    sink = ListSink(BatchLimits(max_age_s=5))
    sink.append(rec(0, partition=0))
    sink.append(rec(0, partition=1))
    started = sink.batch(("t", 0)).started  # type: ignore[union-attr]
    assert sink.expired(started + 1) == []
    assert sorted(sink.expired(started + 6)) == [("t", 0), ("t", 1)]
    sink.drop([("t", 1)])
    assert sink.pending() == [("t", 0)]


def test_next_due_is_the_oldest_buffer_plus_its_age_limit() -> None:
    sink = ListSink(BatchLimits(max_age_s=5))
    assert sink.next_due() is None
    sink.append(rec(0, partition=1))
    sink.append(rec(0, partition=0))
    first = sink.batch(("t", 1)).started  # type: ignore[union-attr]
    assert sink.next_due() == first + 5
    sink.flush(("t", 1))
    assert sink.next_due() == sink.batch(("t", 0)).started + 5  # type: ignore[union-attr]
    sink.flush(("t", 0))
    assert sink.next_due() is None


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        BatchLimits(max_records=0)
