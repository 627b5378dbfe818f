"""Which master records exist, and when a missing one can be declared missing.

The decision (see also the package docstring): a fact whose foreign key is
not yet known is *parked*, not rejected, because the processor reads many
topics and partitions concurrently and a fact can overtake its master. It
is rejected with UNKNOWN_REFERENCE only when both hold:

1. every partition of the referenced entities' raw topics has been
   processed past the fact's barrier (the consumer group's committed
   offsets, which commit in the same transaction as the clean outputs).
   The barrier is everything produced up to the reference grace after the
   fact (:mod:`stream_processors.barriers`); and
2. this worker's reference index has read the clean topics of those
   entities up to their high-water marks observed after (1). A transaction
   still open below such a mark (a killed worker's, until the broker aborts
   it) holds the decision back: the masters committed after it are not
   readable before it ends.

The simulator (and any sane source) emits a master before the facts that
use it, so by then the master is in the index if it ever was valid.

:class:`ReferenceTracker` runs in one background thread: it reads the
clean topics of referenced entities (every partition, read_committed, no
consumer group, from the beginning, so every worker has the whole index)
and polls the group's committed offsets and the high-water marks. The
engine reads :attr:`ReferenceTracker.ready`, an immutable snapshot, without
locks.

Caught up means the consumer's *position* has reached the high-water mark,
never "the last record's offset + 1": the last offset of a transactional
partition is a commit marker that no record carries, so counting records
stopped one short for ever and a quiet stream never decided its parked
facts (found 2026-11-30).

Memory: the index keeps what its topics keep. Master topics are compacted,
so every id stays (bounded by the number of masters); a referent whose clean
topic is not compacted (sales) is forgotten once its record is older than
that topic's retention, which is also all a restarted worker could rebuild.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, IsolationLevel, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from orion.kafka_config import KafkaConfig
from stream_processors import metrics

__all__ = ["ReferenceTracker", "Status", "end_offsets"]

log = logging.getLogger("orion.processor.references")
TPKey = tuple[str, int]
_PRUNE_EVERY_POLLS = 100
_LAG_EVERY_POLLS = 10


@dataclass(frozen=True)
class Status:
    """One poll: raw high-water marks, the group's commits, and the index caught up to both."""

    epoch: int
    polled_at_ms: int
    """Wall clock when the poll began: everything produced before it is within raw_hwm."""
    raw_hwm: dict[TPKey, int] = field(default_factory=dict)
    committed: dict[TPKey, int] = field(default_factory=dict)

    def done(self, tp: TPKey) -> int:
        """Offsets of ``tp`` the group has processed (0 when it never committed)."""
        return max(self.committed.get(tp, 0), 0)


class ReferenceTracker:
    """Background reader of clean referent topics plus progress poller (one thread)."""

    def __init__(
        self,
        kafka: KafkaConfig,
        group_id: str,
        clean_topics: dict[str, str],
        raw_referent_topics: list[str],
        lag_topics: list[str],
        partitions: int,
        retention_ms: dict[str, int | None],
        interval_s: float = 0.3,
    ) -> None:
        self._kafka = kafka
        self._group_id = group_id
        self._clean = clean_topics  # clean topic -> referent stem
        self._raw_ref = raw_referent_topics
        self._lag_topics = lag_topics
        self._n = partitions
        self._interval = interval_s
        self._retention = {self._clean[t]: ms for t, ms in retention_ms.items()}
        self.known: dict[str, Any] = {
            stem: (set() if self._retention.get(stem) is None else {})
            for stem in clean_topics.values()
        }
        self.ready: Status | None = None
        self.arrived: deque[tuple[str, str]] = deque()
        """(stem, id) of every referent read since the engine last drained it (it clears
        it while nothing is parked): facts waiting for one of them are released at once."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reference-tracker", daemon=True)
        self._epoch = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def exists(self, stem: str, key: str) -> bool:
        return key in self.known[stem]

    @property
    def epoch(self) -> int:
        """Number of the poll in progress; a status of a later epoch began after now."""
        return self._epoch

    # -- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        base = {**self._kafka, "enable.auto.commit": False}
        index = Consumer({**base, "group.id": self._group_id + "-refindex",
                          "isolation.level": "read_committed"})  # fmt: skip
        # Committed offsets and high-water marks only. read_uncommitted: an offset fetch
        # then returns the last *stable* commit at once instead of waiting for the
        # transaction in flight (which is never counted before it commits).
        progress = Consumer({**base, "group.id": self._group_id,
                             "isolation.level": "read_uncommitted"})  # fmt: skip
        admin = AdminClient(dict(self._kafka))
        tps = [TopicPartition(t, p, OFFSET_BEGINNING) for t in self._clean for p in range(self._n)]
        index.assign(tps)
        try:
            while not self._stop.is_set():
                try:
                    status, clean_hwm = self._poll(progress, admin)
                except Exception as e:  # broker away: keep the last snapshot, try again
                    metrics.RETRIES.labels("progress_poll").inc()
                    log.warning("progress poll failed", extra={"error": repr(e)})
                    self._stop.wait(1.0)
                    continue
                while not self._stop.is_set():
                    self._consume(index, 0.1)
                    positions = index.position([TopicPartition(t, p) for t, p in clean_hwm])
                    behind = {
                        (tp.topic, tp.partition): (tp.offset, clean_hwm[(tp.topic, tp.partition)])
                        for tp in positions
                        if clean_hwm[(tp.topic, tp.partition)] > max(tp.offset, 0)
                    }
                    if not behind:
                        self.ready = status
                        break
                    log.debug("index behind", extra={"behind": str(behind)})
                if status.epoch % _PRUNE_EVERY_POLLS == 0:
                    self._prune()
                self._stop.wait(self._interval)
        finally:
            index.close()
            progress.close()

    def _consume(self, index: Consumer, timeout: float) -> None:
        for msg in index.consume(5000, timeout=timeout):
            if msg.error() is not None:
                continue
            key = msg.key()
            if key is None:
                continue
            stem = self._clean[msg.topic() or ""]
            known = self.known[stem]
            ident = key.decode("utf-8", "replace")
            if isinstance(known, set):
                known.add(ident)
            else:
                known[ident] = msg.timestamp()[1]
            self.arrived.append((stem, ident))
        metrics.REFERENCE_IDS.set(sum(len(k) for k in self.known.values()))

    def _prune(self) -> None:
        now_ms = int(time.time() * 1000)
        for stem, retention in self._retention.items():
            known = self.known[stem]
            if retention is None or not isinstance(known, dict):
                continue
            horizon = now_ms - retention
            old = [k for k, ts in known.items() if ts < horizon]
            for k in old:
                del known[k]

    def _poll(self, progress: Consumer, admin: AdminClient) -> tuple[Status, dict[TPKey, int]]:
        self._epoch += 1
        epoch = self._epoch
        polled_at_ms = int(time.time() * 1000)
        raw = [(t, p) for t in {*self._raw_ref, *self._lag_topics} for p in range(self._n)]
        raw_hwm = end_offsets(admin, raw, IsolationLevel.READ_UNCOMMITTED)
        committed = {
            (tp.topic, tp.partition): tp.offset
            for tp in progress.committed([TopicPartition(t, p) for t, p in raw], timeout=5)
        }
        # High-water marks, not last stable offsets, and read after the commits: every
        # transaction whose input offsets are in `committed` wrote its clean records below
        # them. The last stable offset is no such bound: a worker SIGKILLed mid-transaction
        # holds it back until the broker aborts that transaction (the transaction
        # timeout), and the masters its successor commits meanwhile lie above it. Taking
        # it dead-lettered facts whose masters were committed but not yet readable (CI,
        # 2026-12-02). The index reaches these marks once every transaction below them
        # has ended; read_committed positions move past aborted records and markers.
        clean = [(t, p) for t in self._clean for p in range(self._n)]
        clean_hwm = end_offsets(admin, clean, IsolationLevel.READ_UNCOMMITTED)
        if epoch % _LAG_EVERY_POLLS == 1:
            for t, p in raw:
                if t in self._lag_topics:
                    done = max(committed.get((t, p), 0), 0)
                    metrics.LAG.labels(t, str(p)).set(max(raw_hwm[(t, p)] - done, 0))
        return Status(epoch, polled_at_ms, raw_hwm, committed), clean_hwm


def end_offsets(
    admin: AdminClient, tps: list[TPKey], isolation: IsolationLevel, timeout_s: float = 5.0
) -> dict[TPKey, int]:
    """End offsets of many partitions in one ListOffsets request per broker.

    Not ``Consumer.get_watermark_offsets`` on the index consumer: a request on a
    connection that is busy with fetches waits behind them (about 0.5 s each), and
    one such call per partition made a poll take many seconds.
    """
    latest = OffsetSpec.latest()  # type: ignore[no-untyped-call]
    futures = admin.list_offsets({TopicPartition(t, p): latest for t, p in tps},
                                 isolation_level=isolation, request_timeout=timeout_s)  # fmt: skip
    return {
        (tp.topic, tp.partition): int(f.result(timeout=timeout_s).offset)
        for tp, f in futures.items()
    }
