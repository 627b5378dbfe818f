"""ReferenceTracker against a real broker: a status is ready only once its masters are readable."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from confluent_kafka import Producer

from orion.settings import OrionSettings
from orionctl.stack.process import wait_until
from stream_processors.references import ReferenceTracker


def _ready_after(tracker: ReferenceTracker, epoch: int, timeout_s: float) -> bool:
    """True once the tracker publishes a status whose poll began after ``epoch``."""

    def published() -> bool:
        ready = tracker.ready
        return ready is not None and ready.epoch > epoch

    return wait_until(published, timeout_s, interval_s=0.05)


def test_a_dead_workers_open_transaction_holds_the_index_until_it_ends(
    settings: OrionSettings, kafka_topic: Callable[..., str]
) -> None:
    """A worker killed mid-transaction leaves it open until the broker aborts it; the
    masters its successor commits meanwhile lie above the last stable offset. A status
    published then must not claim the index has them (CI of 2026-12-02 dead-lettered
    production costs whose vehicles had been committed that way)."""
    kafka = settings.kafka_client_config()
    clean, raw = kafka_topic(), kafka_topic()
    tracker = ReferenceTracker(kafka, "test-refs-" + uuid.uuid4().hex[:8], {clean: "erp.vehicles"},
                               [raw], [], 1, {clean: None}, interval_s=0.1)  # fmt: skip
    dead = Producer({**kafka, "transactional.id": "test-dead-" + uuid.uuid4().hex[:8]})
    live = Producer({**kafka, "transactional.id": "test-live-" + uuid.uuid4().hex[:8]})
    dead.init_transactions(30)
    live.init_transactions(30)
    tracker.start()
    try:
        assert _ready_after(tracker, 0, 30), "the tracker never became ready on empty topics"
        dead.begin_transaction()
        dead.produce(clean, key=b"VIN-DEAD", value=b"x")
        dead.flush(10)  # written, never committed: the worker "dies" here
        live.begin_transaction()
        live.produce(clean, key=b"VIN-1", value=b"x")
        live.commit_transaction(30)
        committed_at = tracker.epoch

        # While the dead transaction is open, no later status may be published without VIN-1.
        published = _ready_after(tracker, committed_at, 3.0)
        assert not published or tracker.exists("erp.vehicles", "VIN-1"), (
            "a status polled after VIN-1 committed was ready without VIN-1 in the index"
        )
        dead.abort_transaction(30)  # what the broker's transaction timeout would do
        assert _ready_after(tracker, committed_at, 30), "the index never passed the aborted one"
        assert tracker.exists("erp.vehicles", "VIN-1")
        assert not tracker.exists("erp.vehicles", "VIN-DEAD")
    finally:
        tracker.stop()
