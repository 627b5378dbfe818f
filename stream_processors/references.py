"""Which master records exist, and when a missing one can be declared missing.

The decision (see also the package docstring): a fact whose foreign key is
not yet known is *parked*, not rejected, because the processor reads many
topics and partitions concurrently and a fact can overtake its master. It
is rejected with UNKNOWN_REFERENCE only when both hold:

1. every partition of the referenced entities' raw topics has been
   processed past the fact's barrier (the consumer group's committed
   offsets; with exactly-once these commit in the same transaction as the
   clean output). The barrier is the first offset produced more than the
   reference grace after the fact, or, if there is none yet, the
   high-water mark observed after the fact was parked
   (``Processor._barrier``); and
2. this worker's reference index has read the clean topics of those
   entities up to their high-water marks observed after (1).

The simulator (and any sane source) emits a master before the facts that
use it, so by then the master is in the index if it ever was valid.

:class:`ReferenceTracker` runs in one background thread: it reads the
clean topics of referenced entities (every partition, read_committed, no
consumer group, from the beginning, so every worker has the whole index)
and polls the group's committed offsets and the high-water marks. The
agent reads :attr:`ReferenceTracker.ready`, an immutable snapshot, without
locks.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from stream_processors import metrics

__all__ = ["ReferenceTracker", "Status"]

log = logging.getLogger("orion.processor.references")
TPKey = tuple[str, int]


@dataclass(frozen=True)
class Status:
    """One poll: raw high-water marks, the group's commits, and the index caught up to both."""

    epoch: int
    raw_hwm: dict[TPKey, int] = field(default_factory=dict)
    committed: dict[TPKey, int] = field(default_factory=dict)


class ReferenceTracker:
    """Background reader of clean referent topics plus progress poller (one thread)."""

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        clean_topics: dict[str, str],
        raw_referent_topics: list[str],
        progress_topics: list[str],
        lag_topics: list[str],
        partitions: int,
        interval_s: float = 0.3,
    ) -> None:
        self._conf: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
        self._group_id = group_id
        self._clean = clean_topics  # clean topic -> referent stem
        self._raw_ref = raw_referent_topics
        self._progress = progress_topics
        self._lag_topics = lag_topics
        self._n = partitions
        self._interval = interval_s
        self.known: dict[str, set[str]] = {stem: set() for stem in clean_topics.values()}
        self.ready: Status | None = None
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

    # -- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        index = Consumer({**self._conf, "group.id": self._group_id + "-refindex"})
        progress = Consumer({**self._conf, "group.id": self._group_id})
        tps = [TopicPartition(t, p, OFFSET_BEGINNING) for t in self._clean for p in range(self._n)]
        index.assign(tps)
        pos: dict[TPKey, int] = {(t, p): 0 for t in self._clean for p in range(self._n)}
        try:
            while not self._stop.is_set():
                try:
                    status, clean_hwm = self._poll(progress)
                except Exception as e:  # broker away: keep the last snapshot, try again
                    metrics.RETRIES.labels("progress_poll").inc()
                    log.warning("progress poll failed", extra={"error": repr(e)})
                    self._stop.wait(1.0)
                    continue
                caught_up = False
                while not self._stop.is_set() and not caught_up:
                    self._consume(index, pos, 0.1)
                    behind = {tp: (pos[tp], hwm) for tp, hwm in clean_hwm.items() if pos[tp] < hwm}
                    caught_up = not behind
                    if behind:
                        log.debug("index behind", extra={"behind": str(behind)})
                if caught_up:
                    self.ready = status
                self._stop.wait(self._interval)
        finally:
            index.close()
            progress.close()

    def _consume(self, index: Consumer, pos: dict[TPKey, int], timeout: float) -> None:
        for msg in index.consume(5000, timeout=timeout):
            tp = (msg.topic() or "", msg.partition() or 0)
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    pos[tp] = max(pos[tp], msg.offset() or 0)
                continue
            key = msg.key()
            if key is not None:
                self.known[self._clean[tp[0]]].add(key.decode("utf-8", "replace"))
            pos[tp] = max(pos[tp], (msg.offset() or 0) + 1)

    @property
    def epoch(self) -> int:
        """Number of the poll in progress; a status of a later epoch began after now."""
        return self._epoch

    def _poll(self, progress: Consumer) -> tuple[Status, dict[TPKey, int]]:
        self._epoch += 1
        epoch = self._epoch
        raw_hwm: dict[TPKey, int] = {}
        for t in self._raw_ref:
            for p in range(self._n):
                raw_hwm[(t, p)] = progress.get_watermark_offsets(
                    TopicPartition(t, p), timeout=5, cached=False
                )[1]
        wanted = [TopicPartition(t, p) for t in {*self._progress, *self._lag_topics}
                  for p in range(self._n)]  # fmt: skip
        committed = {
            (tp.topic, tp.partition): tp.offset for tp in progress.committed(wanted, timeout=5)
        }
        clean_hwm = {
            (t, p): progress.get_watermark_offsets(TopicPartition(t, p), timeout=5, cached=False)[1]
            for t in self._clean
            for p in range(self._n)
        }
        if epoch % 20 == 1:
            for t in self._lag_topics:
                for p in range(self._n):
                    tp = TopicPartition(t, p)
                    high = progress.get_watermark_offsets(tp, timeout=5, cached=False)[1]
                    done = max(committed.get((t, p), 0), 0)
                    metrics.LAG.labels(t, str(p)).set(max(high - done, 0))
        return Status(epoch, raw_hwm, committed), clean_hwm
