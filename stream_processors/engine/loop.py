"""The consume-transform-produce loop on Kafka transactions, one batch per transaction.

This is the only module that knows Kafka transactions. One turn of the loop:

1. ``consume`` up to ``batch_max_records`` raw records, waiting at most
   ``batch_interval_s`` (a backlog fills big batches, a quiet stream commits
   small ones often);
2. ``begin_transaction``; every record through the processor, which emits
   clean and dlq records into the transaction; parked facts decided when
   the reference tracker has a new status (so an idle stream decides them
   too: no tick topic); expired dedup keys tombstoned;
3. the state changes of the batch produced to the changelog topics;
4. ``send_offsets_to_transaction`` (the next offset of every partition read,
   with the group's metadata: KIP-447 fences a zombie whose generation is
   stale) and ``commit_transaction``;
5. only then the state changes applied locally, and the metrics counted.

Failures, as librdkafka's transactions guide prescribes: an abortable error
aborts the transaction, drops the batch's state changes, seeks every
partition of the batch back to its first record and goes on after a
back-off; a registry or broker that does not answer is the same (never a
dropped record); a fatal error (fenced by a newer instance of this worker,
say) raises :class:`EngineFatalError`, and the command exits non-zero for a
supervisor to restart it.

Rebalances (eager, range assignor: partition p of every raw topic on one
worker) happen only inside ``consume``, between transactions, so at a
revocation nothing is in flight. An assigned partition's state is rebuilt
from its changelogs before any of its records is processed; a revoked one
is kept aside with the changelogs' end offsets, and reused as it is when the
partition comes back untouched (the usual eager rebalance hands the same
partitions back).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from threading import Event
from typing import Any

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from orion.exceptions import ServiceUnavailableError
from orion.kafka_config import KafkaConfig
from orion.kafka_errors import is_fatal
from stream_processors import metrics
from stream_processors.configuration import ProcessorConfig
from stream_processors.engine.changelog import CHANGELOGS, changelog_topic, end_offsets, read_to_end
from stream_processors.engine.clients import consumer_config, producer_config, reader_config
from stream_processors.exceptions import EngineFatalError
from stream_processors.processor import OutHeaders, Processor
from stream_processors.references import ReferenceTracker, Status
from stream_processors.state import DedupTable, PartitionState, RocksStore
from stream_processors.watchdog import IDLE, Phase

__all__ = ["Engine"]

log = logging.getLogger("orion.processor")
_TIMEOUT_S = 30.0
_OFFSETS_TIMEOUT_S = 10.0
_EXPIRE_EVERY_S = 1.0
_BACKOFF_MAX_S = 30.0
TPKey = tuple[str, int]


class Engine:
    """One worker: its clients, the loop, and the state of the partitions it owns."""

    def __init__(
        self,
        *,
        kafka: KafkaConfig,
        prefix: str,
        config: ProcessorConfig,
        processor: Processor,
        tracker: ReferenceTracker,
        state_dir: Path,
    ) -> None:
        self.config = config
        self.processor = processor
        self.tracker = tracker
        self.app_id = config.full_app_id(prefix)
        self.raw_topics = sorted(processor.stem_of)
        self._changelog = {n: changelog_topic(self.app_id, n) for n in CHANGELOGS}
        self.state_dir = state_dir
        self._window_ms = int(config.dedup_window_s * 1000)
        self.states: dict[int, PartitionState] = {}
        self._standby: dict[int, tuple[PartitionState, dict[TPKey, int]]] = {}
        self.phase = Phase()
        self.assigned = False
        self._closing = False
        self._decided_epoch = 0
        self._expired_at = 0.0
        self._backoff = 0.5
        self._producer = Producer(producer_config(kafka, config.transactional_id(prefix)))
        self._consumer = Consumer(consumer_config(kafka, self.app_id, config))
        self._reader = Consumer(reader_config(kafka))
        self._produce = self._producer.produce

    # -- the loop ---------------------------------------------------------------------------
    def run(self, stop: Event) -> None:
        """Process until ``stop`` is set; EngineFatalError when the worker must exit."""
        self.phase.at("initialising transactions")
        self._retry("init_transactions", lambda: self._producer.init_transactions(_TIMEOUT_S))
        self._consumer.subscribe(self.raw_topics, on_assign=self._on_assign,
                                 on_revoke=self._on_revoke, on_lost=self._on_lost)  # fmt: skip
        try:
            while not stop.is_set():
                self._turn()
        finally:
            self._closing = True
            self.phase.at("closing")
            self._consumer.close()
            for state in [*self.states.values(), *(s for s, _ in self._standby.values())]:
                state.dedup.close()
            self.states.clear()
            self._standby.clear()
            self._reader.close()

    def _turn(self) -> None:
        self.phase.at(IDLE)
        msgs = self._consumer.consume(self.config.batch_max_records, self.config.batch_interval_s)
        records: list[Message] = []
        for m in msgs:
            err = m.error()
            if err is None:
                records.append(m)
            else:
                self._consumer_error(err)
        status = self.tracker.ready
        parked = any(s.parked.count for s in self.states.values())
        if not parked:
            self.tracker.arrived.clear()
        decide = parked and status is not None and status.epoch > self._decided_epoch
        if records or decide or (parked and self.tracker.arrived):
            self._transaction(records, status if decide else None)
        self._gauges()

    def _transaction(self, records: list[Message], status: Status | None) -> None:
        self.phase.at("processing a batch")
        positions: dict[TPKey, list[int]] = {}
        try:
            self._producer.begin_transaction()
            self._handle(records, positions)
            self.processor.release_arrived(self.states, self._emit)
            if status is not None:
                self.phase.at("deciding parked facts")
                self.processor.decide(self.states, self._emit, status)
            now = time.monotonic()
            if records and now - self._expired_at > _EXPIRE_EVERY_S:
                self._expired_at = now
                for state in self.states.values():
                    state.dedup.expire()
            self._write_changelogs()
            self.phase.at("committing")
            started = time.monotonic()
            if positions:
                offsets = [TopicPartition(t, p, end + 1) for (t, p), (_, end) in positions.items()]
                self._send_offsets(offsets)
            self._commit()
        except (KafkaException, ServiceUnavailableError, BufferError) as e:
            self._abort(e, positions)
            return
        except BaseException:
            self._abort_quietly()
            raise
        metrics.COMMIT_SECONDS.observe(time.monotonic() - started)
        epoch = self.tracker.epoch
        for state in self.states.values():
            state.commit(epoch)
        if status is not None:
            self._decided_epoch = status.epoch
        self.processor.tally.apply()
        metrics.TRANSACTIONS.labels("committed").inc()
        if records:
            metrics.BATCH_RECORDS.observe(len(records))
        self._backoff = 0.5

    def _handle(self, records: list[Message], positions: dict[TPKey, list[int]]) -> None:
        stem_of = self.processor.stem_of
        states = self.states
        handle = self.processor.handle
        emit = self._emit
        for m in records:
            topic = m.topic() or ""
            p = m.partition() or 0
            state = states.get(p)
            if state is None:
                continue  # revoked meanwhile: its new owner reads it from the committed offset
            offset = m.offset() or 0
            kind, ts = m.timestamp()
            handle(state, emit, stem_of[topic], offset,
                   None if kind == TIMESTAMP_NOT_AVAILABLE else ts, m.key(), m.value(),
                   m.headers())  # fmt: skip
            span = positions.get((topic, p))
            if span is None:
                positions[(topic, p)] = [offset, offset]
            else:
                span[1] = offset

    def _emit(
        self, topic: str, partition: int, key: bytes | None, value: bytes | None,
        headers: OutHeaders | None,
    ) -> None:  # fmt: skip
        """Produce one record into the open transaction (waits while the queue is full)."""
        while True:
            try:
                self._produce(topic, value, key, partition=partition, headers=headers)
                return
            except BufferError:
                self._producer.poll(0.05)

    def _write_changelogs(self) -> None:
        dedup, parked = self._changelog["dedup"], self._changelog["parked"]
        for state in self.states.values():
            p = state.partition
            for key, value in state.dedup.changes():
                self._emit(dedup, p, key, value, None)
            for key, value in state.parked.changes():
                self._emit(parked, p, key, value, None)

    def _send_offsets(self, offsets: list[TopicPartition]) -> None:
        """``send_offsets_to_transaction``, given up on if it outlives its own timeout.

        librdkafka 2.16 can block in it for ever when the group coordinator went away
        during the transaction (its coordinator requests ignore the timeout:
        librdkafka issues #5456 and #5511, open; seen here after a broker restart).
        The call runs in a helper thread; past the deadline the worker stops with
        EngineFatalError, for its supervisor to restart it: nothing of the batch was
        committed, and the restarted worker (same ``--instance-id``) fences the stuck
        transaction. Replacing the producer in-process was tried: the new producer's
        ``init_transactions`` hung the same way in one run of three.
        """
        producer = self._producer
        metadata = self._consumer.consumer_group_metadata()
        done = threading.Event()
        failure: list[BaseException] = []

        def call() -> None:
            try:
                producer.send_offsets_to_transaction(offsets, metadata, _OFFSETS_TIMEOUT_S)
            except BaseException as e:  # handed to the engine's thread
                failure.append(e)
            finally:
                done.set()

        threading.Thread(target=call, name="send-offsets", daemon=True).start()
        if not done.wait(_OFFSETS_TIMEOUT_S + 5):
            _STUCK.append(producer)  # still inside a C call: never destroy it
            raise EngineFatalError(
                f"send_offsets_to_transaction did not return in {_OFFSETS_TIMEOUT_S + 5:.0f}s "
                "after the broker went away (librdkafka #5456); nothing was committed",
            )
        if failure:
            raise failure[0]

    def _commit(self) -> None:
        while True:
            try:
                self._producer.commit_transaction(_TIMEOUT_S)
                return
            except KafkaException as e:
                err = e.args[0]
                log.warning("commit failed", extra={
                    "error": str(err), "retriable": err.retriable(),
                    "abortable": err.txn_requires_abort(), "fatal": err.fatal()})  # fmt: skip
                if err.retriable():
                    metrics.RETRIES.labels("commit").inc()
                    continue
                raise

    def _abort(self, e: Exception, positions: dict[TPKey, list[int]]) -> None:
        """Abort the transaction, forget its state changes and read its records again."""
        err = e.args[0] if isinstance(e, KafkaException) else None
        if isinstance(err, KafkaError) and err.fatal():
            raise EngineFatalError(f"fatal Kafka error, the worker must restart: {err}") from e
        log.warning("transaction aborted; reading the batch again",
                    extra={"error": str(e), "backoff_s": self._backoff})  # fmt: skip
        self.phase.at("aborting")
        self._retry("abort_transaction", lambda: self._producer.abort_transaction(_TIMEOUT_S))
        self._abort_state(positions)

    def _abort_state(self, positions: dict[TPKey, list[int]]) -> None:
        """Forget the aborted batch's state changes and counts; read its records again."""
        for state in self.states.values():
            state.abort()
        self.processor.tally.drop()
        metrics.TRANSACTIONS.labels("aborted").inc()
        for (t, p), (first, _) in positions.items():
            if p in self.states:
                try:
                    self._consumer.seek(TopicPartition(t, p, first))
                except KafkaException as se:
                    log.warning("seek after abort failed", extra={"tp": f"{t}[{p}]",
                                                                  "error": str(se)})  # fmt: skip
        time.sleep(self._backoff)
        self._backoff = min(self._backoff * 2, _BACKOFF_MAX_S)

    def _abort_quietly(self) -> None:
        if _STUCK:  # the producer never came back from a call: do not wait on it again
            return
        try:
            self._producer.abort_transaction(10)
        except KafkaException as e:
            log.warning("abort after an error failed", extra={"error": str(e)})

    def _retry(self, what: str, call: Any) -> None:
        """A transactional call retried while librdkafka says retrying can help."""
        delay = 0.5
        while True:
            try:
                call()
                return
            except KafkaException as e:
                err = e.args[0]
                if err.fatal():
                    raise EngineFatalError(f"{what} failed fatally: {err}") from e
                if not err.retriable():
                    raise EngineFatalError(f"{what} failed: {err}") from e
                metrics.RETRIES.labels(what).inc()
                log.warning(f"{what} failed; retrying", extra={"error": str(err)})
                time.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX_S)

    def _consumer_error(self, err: KafkaError) -> None:
        if is_fatal(err):
            raise EngineFatalError(f"fatal consumer error: {err}")
        metrics.RETRIES.labels("consume").inc()
        log.warning("consumer error", extra={"error": str(err)})

    def _gauges(self) -> None:
        parked = 0
        oldest = None
        for state in self.states.values():
            parked += state.parked.count
            for records in state.parked.by_stem.values():
                first = next(iter(records.values()), None)
                if first is not None and (oldest is None or first.parked_at < oldest):
                    oldest = first.parked_at
        metrics.PARKED.set(parked)
        metrics.OLDEST_PARKED.set(0 if oldest is None else max(time.time() - oldest, 0))
        metrics.ASSIGNED.set(len(self.states))

    # -- rebalances -------------------------------------------------------------------------
    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        got = {(tp.topic, tp.partition) for tp in partitions}
        numbers = sorted({p for _, p in got})
        split = [p for p in numbers if any((t, p) not in got for t in self.raw_topics)]
        if split:  # cannot happen with the range assignor and equal partition counts
            log.error("assignment is not co-partitioned", extra={"partitions": split})
        for p in numbers:
            if p not in self.states:
                self.phase.at(f"restoring partition {p}")  # one stall clock per partition
                self.states[p] = self._restore(p)
        self.assigned = True
        log.info("partitions assigned", extra={"partitions": numbers})

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for p in sorted({tp.partition for tp in partitions}):
            state = self.states.pop(p, None)
            if state is None:
                continue
            if self._closing:
                state.dedup.close()
                continue
            try:  # nothing is in flight: revocations come between transactions
                ends = end_offsets(self._reader, self._changelog_tps(p))
            except ServiceUnavailableError:
                state.dedup.close()
                continue
            self._standby[p] = (state, ends)
        log.info(
            "partitions revoked", extra={"partitions": sorted({tp.partition for tp in partitions})}
        )

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Lost (the session expired): another worker may own them now; trust nothing."""
        for p in sorted({tp.partition for tp in partitions}):
            state = self.states.pop(p, None)
            if state is not None:
                state.dedup.close()
        log.warning(
            "partitions lost", extra={"partitions": sorted({tp.partition for tp in partitions})}
        )

    def _changelog_tps(self, p: int) -> list[TPKey]:
        return [(t, p) for t in self._changelog.values()]

    def _restore(self, p: int) -> PartitionState:
        """Partition p's state from its changelogs (or kept aside, if nobody touched it)."""
        started = time.monotonic()
        delay = 0.5
        while True:
            try:
                return self._restore_once(p, started)
            except ServiceUnavailableError as e:
                if time.monotonic() - started > 120:
                    raise
                metrics.RETRIES.labels("restore").inc()
                log.warning("restoring state failed; retrying",
                            extra={"partition": p, "error": e.message})  # fmt: skip
                time.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _restore_once(self, p: int, started: float) -> PartitionState:
        kept = self._standby.pop(p, None)
        if kept is not None:
            state, ends = kept
            if end_offsets(self._reader, self._changelog_tps(p)) == ends:
                log.info("state reused", extra={"partition": p})
                return state
            state.dedup.close()
        store = RocksStore(self.state_dir / f"p{p}", self.config.store_memory_mib)
        state = PartitionState(p, DedupTable(store, self._window_ms))
        try:
            rows, _ = read_to_end(self._reader, dict.fromkeys(self._changelog_tps(p)))
        except BaseException:
            store.close()
            raise
        dedup_rows = rows[(self._changelog["dedup"], p)]
        parked_rows = rows[(self._changelog["parked"], p)]
        state.dedup.restore(dedup_rows)
        epoch = self.tracker.epoch
        state.parked.restore(parked_rows, epoch)
        for stem in self.processor.parkable:
            state.released_epoch[stem] = epoch  # a release just before may not be indexed yet
        took = time.monotonic() - started
        metrics.RESTORE_SECONDS.observe(took)
        metrics.RESTORED_RECORDS.inc(len(dedup_rows) + len(parked_rows))
        log.info("state restored", extra={
            "partition": p, "dedup_records": len(dedup_rows), "parked": state.parked.count,
            "seconds": round(took, 3)})  # fmt: skip
        return state


_STUCK: list[Producer] = []
"""Producers left inside a librdkafka call that never returned (see Engine._send_offsets)."""


def stuck() -> bool:
    """True when a librdkafka call never returned: the process must exit without
    destroying that client (``os._exit``), or its destructor may block the exit."""
    return bool(_STUCK)


def state_dir(data_dir: Path, app_id: str, instance: str) -> Path:
    """This process's own state directory; directories of dead processes are removed."""
    base = data_dir.resolve() / app_id
    base.mkdir(parents=True, exist_ok=True)
    mine = base / instance
    host_pid = instance.rsplit("-", 1)
    for old in base.iterdir():
        parts = old.name.rsplit("-", 1)
        ours = len(parts) == 2 and parts[1].isdigit() and parts[0] == host_pid[0]
        if old != mine and ours and not _alive(int(parts[1])):
            _remove(old)
    _remove(mine)
    mine.mkdir()
    return mine


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
