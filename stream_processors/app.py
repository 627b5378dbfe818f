"""The Faust app: one agent over every raw topic, state in RocksDB tables with changelogs.

Who runs it: ``orion process`` through :func:`run`. Per record the agent
decodes and applies the entity's rules (:mod:`.pipeline`), drops
duplicates (table ``dedup``: business key + content hash, which an exact
re-send matches too), parks facts whose master is not known yet
(:data:`parked`, decided on ticks, see :mod:`.references`), and publishes
to ``clean.*`` or ``dlq.*`` on the *same partition number* it read from.

Exactly-once: Faust keeps one transactional producer per partition number
of its copartitioned topic group; every output of a record read from
partition p, every table change and the offset commit go through that one
producer, so they commit together or not at all. That is why outputs are
sent with an explicit partition and transactional id, and why all raw,
clean, dlq, tick and changelog topics must have the same partition count.
faust-streaming 0.15.3 breaks that in several places (table changes outside
the transaction, offsets lost at revocation, records silently skipped
around a rebalance, empty table recovery). So this module sends table
changes itself, keeps its own offsets (:mod:`.offsets`, :mod:`.positions`)
and commits them, and :mod:`.faust_fixes` patches the rest. Measured
against the ledger: a worker SIGKILLed twice, and a second worker joining
mid-run, both give the exact expected clean and DLQ topics (tests in
``tests/stream_processors/test_against_ledger.py``).

Ticks: a plain producer thread writes an empty record to every partition of
the ``<app id>-ticks`` topic every ``tick_interval_s``. A tick is an event
in partition p's context, so parked records of p are decided, and expired
dedup keys deleted, inside p's transaction, even when the raw topics are idle.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from typing import Any

import faust
import rocksdict
from aiokafka import TopicPartition  # type: ignore[import-untyped]  # (under faust) keys of its commits
from confluent_kafka import KafkaException, Producer

from orion.exceptions import ServiceUnavailableError
from orion.reasons import Reason
from stream_processors import faust_fixes, metrics
from stream_processors.configuration import ProcessorConfig
from stream_processors.dlq import dlq_headers
from stream_processors.offsets import OffsetBook
from stream_processors.pipeline import Pipeline, Rejected, Valid
from stream_processors.positions import Positions
from stream_processors.references import ReferenceTracker, Status
from stream_processors.rules import REFERENT_STEMS
from stream_processors.state import Parked, PartitionState, barrier_times

__all__ = ["Processor"]

log = logging.getLogger("orion.processor")
_EXPIRE_EVERY_TICKS = 20
_TAIL_CHECK_EVERY_S = 5.0
_TAIL_FILL_MAX = 500
_BARRIER_SLICES = 50


class Processor:
    """The app, its tables and the per-partition caches of one worker."""

    def __init__(
        self,
        *,
        bootstrap: str,
        prefix: str,
        config: ProcessorConfig,
        pipeline: Pipeline,
        stems: list[str],
        partitions: int,
        datadir: str,
    ) -> None:
        self.config = config
        self.prefix = prefix
        self.pipeline = pipeline
        self.partitions = partitions
        self.app_id = config.full_app_id(prefix)
        self.eos = config.guarantee == "exactly_once"
        self.window_ms = int(config.dedup_window_s * 1000)
        self.grace_ms = int(config.reference_grace_s * 1000)
        self.tick_topic = f"{self.app_id}-ticks"
        self._stem_of = {prefix + "raw." + s: s for s in stems}
        self._clean = {s: prefix + "clean." + s for s in stems}
        self._dlq = {s: prefix + "dlq." + s for s in stems}
        self._ref_raw = {s: [prefix + "raw." + r for r in self._refs_of(s)] for s in stems}
        # Referenced entities that have references themselves, so may be parked (sales).
        self._parkable = frozenset(r for r in REFERENT_STEMS if self._refs_of(r))
        faust_fixes.apply()
        self.app = faust.App(
            self.app_id,
            broker=f"kafka://{bootstrap}",
            store="rocksdb://",
            datadir=datadir,
            processing_guarantee=config.guarantee,
            topic_partitions=partitions,
            topic_replication_factor=1,
            table_standby_replicas=0,
            web_enabled=config.web_port is not None,
            web_port=config.web_port or 6066,
            broker_commit_interval=config.commit_interval_s,
            broker_max_poll_records=config.max_poll_records,
            broker_session_timeout=config.session_timeout_s,
            broker_heartbeat_interval=min(3.0, config.session_timeout_s / 3),
            stream_buffer_maxsize=8192,
            # Fewer, larger produce requests (aiokafka's sender took ~10% of the worker).
            # Outputs become visible at a commit (every second) anyway; 5 ms is noise.
            producer_linger=0.005,
            consumer_auto_offset_reset="earliest",
            autodiscover=False,
        )
        self.dedup = self.app.Table("dedup", partitions=partitions, key_type=str,
                                    options=config.rocksdb_options())  # fmt: skip
        self.parked = self.app.Table("parked", partitions=partitions, key_type=str,
                                     options=config.rocksdb_options())  # fmt: skip
        self._changes: list[_Change] = []
        self._pending_changes: list[Any] = []
        for table in (self.dedup, self.parked):
            self._changelog_in_transaction(table)
            _forget_on_revoke(table)
        self._changelogs = {
            t.name: (t.changelog_topic.get_topic_name(), _on_sent(t))
            for t in (self.dedup, self.parked)
        }
        self.tracker = ReferenceTracker(
            bootstrap,
            self.app_id,
            {prefix + "clean." + s: s for s in REFERENT_STEMS},
            [prefix + "raw." + s for s in REFERENT_STEMS],
            [prefix + "raw." + s for s in REFERENT_STEMS] + [self.tick_topic],
            list(self._stem_of),
            partitions,
        )
        self._states: dict[int, PartitionState] = {}
        self._commit_lock = asyncio.Lock()
        self.offsets: OffsetBook[Any] = OffsetBook()
        self.positions = Positions(bootstrap, self.app_id)
        self.phase = ("starting", time.monotonic())
        self._delivered_at: dict[Any, float] = {}
        self._tails_checked_at: dict[int, float] = {}
        self._watchdog = _Watchdog(self)
        self._ticker = _Ticker(bootstrap, self.tick_topic, partitions, config.tick_interval_s)
        channel = self.app.topic(
            *self._stem_of, self.tick_topic, key_serializer="raw", value_serializer="raw"
        )
        self.app.agent(channel, name="process")(self._agent)
        self.app.on_partitions_revoked.connect(self._on_revoked)  # type: ignore[arg-type]
        self.assigned = False

    @staticmethod
    def _refs_of(stem: str) -> list[str]:
        from stream_processors.rules import rules_for

        return sorted({r for _, r in rules_for(stem).rules.refs})

    def start(self) -> None:
        """Start the reference tracker and the ticker threads (before the worker runs)."""
        self.tracker.start()
        self._ticker.start()
        self._watchdog.start()

    def close(self) -> None:
        self._watchdog.stop()
        self._ticker.stop()
        self.tracker.stop()
        self.positions.close()

    async def _on_revoked(self, sender: Any, revoked: set[Any], **_: Any) -> None:
        # Sent after Faust's revocation handler waited for the streams and committed.
        self.offsets.forget(revoked)
        for tp in revoked:
            self._delivered_at.pop(tp, None)
            self._tails_checked_at.pop(tp.partition, None)
            state = self._states.pop(tp.partition, None)
            if state is not None:
                metrics.PARKED.dec(state.count)

    # -- the agent --------------------------------------------------------------------------
    async def _agent(self, stream: Any) -> None:
        # Not in __init__: touching app.consumer before the worker runs makes Faust
        # cache app.in_transaction as False, and no transaction is ever started.
        self._take_over_commits()
        faust_fixes.deliver_every_fetched_record(self.app.consumer)
        async for event in stream.events():
            msg = event.message
            self.assigned = True
            self._at("agent: waiting for the commit lock")
            async with self._commit_lock:
                tp = msg.tp
                expected = self.offsets.expected(tp)
                if expected is None:  # first record since the assignment
                    self._at("agent: asking the broker where the partition starts")
                    expected = await self.positions.start_of(msg.topic, msg.partition)
                verdict = self.offsets.check(msg.offset, expected)
                if verdict == "gap":
                    self._at("agent: reading records Faust did not deliver")
                    await self._fill_gap(tp, expected, msg.offset)
                if verdict != "skip":
                    await self._handle_one(tp, msg.offset, msg.timestamp, msg.key, msg.value)
                self._delivered_at[tp] = time.monotonic()
                if msg.topic == self.tick_topic:
                    await self._check_tails(msg.partition)
                await stream.ack(event)
            self._at("agent: waiting for records")

    async def _handle_one(
        self, tp: Any, offset: int, ts: float | None, key: bytes | None, value: bytes | None
    ) -> None:
        self._at("agent: handling a record")
        await self.handle(tp.topic, tp.partition, offset, ts, key, value)
        self._at("agent: sending table changes")
        await self._send_changes(tp.topic)
        self.offsets.handled(tp, offset)

    async def _check_tails(self, p: int) -> None:
        """Handle records at the end of an idle raw partition that Faust never delivered.

        A gap is noticed when a later record arrives; records skipped at the end of
        a partition have no later record, so they would wait forever (seen: the last
        4 re-sent customers of a partition after a restart). Ticks arrive on every
        partition p this worker owns, so every few seconds each raw topic's
        partition p that delivered nothing lately is compared with its high-water
        mark. Handling a record Faust delivers later anyway is harmless: the
        offset book skips it.
        """
        now = time.monotonic()
        if now - self._tails_checked_at.get(p, 0.0) < _TAIL_CHECK_EVERY_S:
            return
        self._tails_checked_at[p] = now
        for topic in self._stem_of:
            tp = TopicPartition(topic, p)
            if now - self._delivered_at.setdefault(tp, now) < _TAIL_CHECK_EVERY_S:
                continue  # delivered lately, or first seen now: give Faust its time
            expected = self.offsets.expected(tp)
            if expected is None:
                expected = await self.positions.start_of(topic, p)
            high = await self.positions.high_water(topic, p)
            if high > expected:  # at most a bounded batch: Faust may just be slow
                self._at("agent: reading records Faust did not deliver")
                await self._fill_gap(tp, expected, min(high, expected + _TAIL_FILL_MAX))

    async def _fill_gap(self, tp: Any, expected: int, offset: int) -> None:
        """Handle the records Faust never delivered (expected .. offset-1), in order.

        Never gives up: the record at ``offset`` must not be handled before them, so
        a broker that does not serve them is retried with back-off.
        """
        delay = 0.5
        while True:
            try:
                missing = await self.positions.read(tp.topic, tp.partition, expected, offset)
                break
            except (TimeoutError, KafkaException) as e:
                metrics.RETRIES.labels("gap_read").inc()
                log.warning("cannot read records Faust did not deliver; retrying",
                            extra={"tp": str(tp), "error": repr(e)})  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        first = missing[0].offset if missing else offset
        if first > expected:  # deleted by retention before anyone processed them
            log.warning("records deleted before they were processed",
                        extra={"tp": str(tp), "first": expected, "last": first - 1})  # fmt: skip
        if missing:
            log.info("handling records Faust did not deliver",
                     extra={"tp": str(tp), "first": first, "count": len(missing)})  # fmt: skip
            metrics.RETRIES.labels("gap_filled").inc(len(missing))
        for rec in missing:
            await self._handle_one(tp, rec.offset, rec.timestamp, rec.key, rec.value)

    def _take_over_commits(self) -> None:
        """Commit what :attr:`offsets` says, with every table change delivered first.

        Faust commits on a timer while the agent runs, and at a rebalance. Both go
        through ``force_commit``, replaced here: it takes the lock the agent holds for
        the span of one record (so a commit sees whole records only), waits until every
        table change sent so far is acknowledged, and commits the offsets after the last
        handled records, in the same transactions as their outputs (see
        :mod:`.offsets` for why Faust's own offset bookkeeping is not used).
        """
        consumer: Any = self.app.consumer
        if getattr(consumer, "_orion_guarded", False):
            return
        lock = self._commit_lock
        book = self.offsets

        async def force_commit(topics: Any = None, start_new_transaction: bool = True) -> bool:
            before = self.phase  # the agent's phase, and since when, for the watchdog
            try:
                self._at("commit: waiting for the lock")
                async with lock:
                    self._at("commit: waiting for table changes to be delivered")
                    await self._changes_delivered()
                    self._at("commit: committing")
                    return await commit(book.due(), start_new_transaction)
            finally:
                self.phase = before

        async def commit(offsets: dict[Any, int], start_new_transaction: bool) -> bool:
            if not offsets:
                return False
            if self.eos:
                await consumer.transactions.commit(
                    offsets, start_new_transaction=start_new_transaction
                )
            elif not await consumer._commit(offsets):
                return False
            book.committed(offsets)
            consumer._committed_offset.update(offsets)
            for tp in offsets:  # Faust's ack lists: unused, kept from growing
                consumer._acked.pop(tp, None)
                consumer._acked_index.pop(tp, None)
            return True

        consumer.force_commit = force_commit
        consumer._orion_guarded = True

    def _at(self, phase: str) -> None:
        """Say what the worker is doing now; the stall watchdog logs it if it lasts."""
        self.phase = (phase, time.monotonic())

    def _changelog_in_transaction(self, table: Any) -> None:
        """Send this table's changes with the record's outputs, before its offset commits.

        faust-streaming 0.15.3 sends table changes through its *non-transactional*
        producer even under exactly-once: a change is committed at once, whether or
        not the record's outputs and offset commit later. After a SIGKILL or a
        rebalance that showed as lost records (a parked record deleted from the
        table, its tick's outputs aborted) and as duplicates. So changes are queued
        here (serialised exactly as Faust would, so its recovery reads them) and
        :meth:`_send_changes` sends them with the transactional id of the partition
        they belong to, before the record is acked. At least once, they go through
        the plain producer, and a commit waits until they are acknowledged.
        """
        changes = self._changes

        def send_changelog(
            partition: int | None, key: Any, value: Any,
            key_serializer: Any = None, value_serializer: Any = None,
        ) -> Any:  # fmt: skip
            fut = table.changelog_topic.as_future_message(
                key=key,
                value=value,
                partition=partition,
                key_serializer=key_serializer or table.key_serializer,
                value_serializer=value_serializer or table.value_serializer,
                callback=table._on_changelog_sent,
            )
            msg = fut.message
            changes.append((table.changelog_topic.get_topic_name(), msg.partition, msg.key,
                            msg.value, lambda done: _settle(fut, done)))  # fmt: skip
            return fut

        table.send_changelog = send_changelog

    async def _send_changes(self, src_topic: str) -> None:
        """Send the queued table changes of the current record into its transaction."""
        changes = self._changes[:]
        self._changes.clear()  # in place: send_changelog closures append to this very list
        for topic, partition, key, value, on_sent in changes:
            sent = await self._producer_send(src_topic, partition, topic, key, value, None)
            sent.add_done_callback(on_sent)
            self._pending_changes.append(sent)

    async def _changes_delivered(self) -> None:
        """Wait until every table change sent so far is acknowledged (in this transaction)."""
        while self._pending_changes:
            batch = self._pending_changes[:]
            del self._pending_changes[: len(batch)]
            await asyncio.gather(*batch)

    def _state(self, p: int) -> PartitionState:
        state = self._states.get(p)
        if state is None:
            state = self._states[p] = self._load(p)
        return state

    def _load(self, p: int) -> PartitionState:
        """Rebuild partition p's caches from the tables (after assignment or restart)."""
        state = PartitionState()
        head = f"{p}|"
        for k, v in sorted(self._items(self.dedup, head), key=lambda kv: int(kv[1][0])):
            state.remember(k.split("|", 2)[1], int(v[0]), k, int(v[1]), str(v[2]))
        rows = [(int(v["o"]), k, v) for k, v in self._items(self.parked, head)]
        for offset, key, v in sorted(rows, key=lambda r: r[0]):
            state.add(key, Parked(v["s"], offset, v["key"], self.tracker.epoch, v.get("ts")))
        metrics.PARKED.inc(state.count)
        return state

    @staticmethod
    def _items(table: Any, head: str) -> list[tuple[str, Any]]:
        out = []
        for k, v in table.items():
            key = k.decode() if isinstance(k, bytes) else str(k)
            if key.startswith(head):
                out.append((key, v))
        return out

    async def handle(
        self, topic: str, p: int, offset: int, ts: float | None, key: bytes | None,
        value: bytes | None,
    ) -> None:  # fmt: skip
        """Process one record of partition p (called in the record's event context)."""
        state = self._state(p)
        if topic == self.tick_topic:
            await self._on_tick(topic, p, offset, state)
            return
        stem = self._stem_of[topic]
        metrics.EVENTS_IN.labels(topic).inc()
        verdict = await self._evaluate(stem, value)
        if isinstance(verdict, Rejected):
            await self._dead_letter(stem, topic, p, offset, ts, key, value, verdict)
            return
        if self._duplicate(stem, p, offset, key, verdict, state):
            return
        skey = (key or b"").decode("utf-8", "replace")
        if verdict.refs and (
            state.parked_key(stem, skey)
            or not all(self.tracker.exists(r, v) for _, r, v in verdict.refs)
        ):
            tk = f"{p}|{stem}|{offset}"
            row = {"s": stem, "o": offset, "key": skey, "ts": ts,
                   "v": base64.b64encode(value or b"").decode()}  # fmt: skip
            self._put(self.parked, p, tk, row)
            state.add(tk, Parked(stem, offset, skey, self.tracker.epoch, ts))
            metrics.PARKED.inc()
            return
        await self._publish(stem, topic, p, ts, key, verdict)

    async def _evaluate(self, stem: str, value: bytes | None) -> Valid | Rejected:
        delay = 0.5
        while True:
            try:
                return self.pipeline.evaluate(stem, value)
            except ServiceUnavailableError as e:  # registry away: wait, never drop
                metrics.RETRIES.labels("registry").inc()
                log.warning("registry unavailable, retrying", extra={"error": e.message})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def _duplicate(
        self, stem: str, p: int, offset: int, key: bytes | None, v: Valid, state: PartitionState
    ) -> bool:
        """True for a record seen before; a replay of the same offset is not a duplicate.

        One table serves both kinds: the business key plus a hash of everything but
        event_id and produced_at. An exact re-send has the same content too, and is told
        apart (for the metrics) by its event_id. One write per record halves the
        changelog traffic of two tables.
        """
        ck = f"{p}|{stem}|{(key or b'').hex()}|{v.content}"
        seen = state.seen.get(ck)
        if seen is not None and seen[0] != offset:
            kind = "exact" if seen[1] == v.event_id else "business"
            metrics.DUPLICATES.labels(stem, kind).inc()
            return True
        if seen is None:
            self._put(self.dedup, p, ck, [v.event_time_ms, offset, v.event_id])
            state.remember(stem, v.event_time_ms, ck, offset, v.event_id)
        else:
            state.saw(stem, v.event_time_ms)
        return False

    def _put(self, table: Any, p: int, key: str, value: Any) -> None:
        """Write one row to partition p's RocksDB of ``table`` and queue its changelog record.

        The same bytes Faust's table would write (JSON key and value, see
        ``tests/stream_processors/test_table_bytes.py``), so its recovery reads them,
        without Faust's per-key path (its ``__setitem__``, serialising twice, a future
        per change: ~15% of the worker's time). The change goes into the record's
        transaction through :meth:`_send_changes`, like every other table change.
        RocksDB's write-ahead log is skipped: these files are deleted at every start
        and revocation (see :func:`_forget_on_revoke`), so after a crash they are
        never read, and the changelog is what recovers them.
        """
        kb, vb = table_bytes(key), table_bytes(value)
        store = table.data
        store._db_for_partition(p).put(kb, vb, _NO_WAL)
        store._key_index[kb] = p
        topic, on_sent = self._changelogs[table.name]
        self._changes.append((topic, p, kb, vb, on_sent))

    # -- outputs ----------------------------------------------------------------------------
    async def _producer_send(
        self, src_topic: str, p: int, topic: str, key: bytes | None, value: bytes,
        headers: list[tuple[str, bytes]] | None,
    ) -> Any:  # fmt: skip
        """Send on partition p; under exactly-once in the transaction of src_topic's p."""
        tid = None
        if self.eos:
            tid = f"{self.app_id}-{self.app.assignor.group_for_topic(src_topic)}-{p}"
        return await self.app.producer.send(topic, key, value, p, None, headers,
                                            transactional_id=tid)  # fmt: skip

    async def _send(
        self, src_topic: str, p: int, topic: str, key: bytes | None, value: bytes,
        headers: list[tuple[str, bytes]] | None, ts: float | None,
    ) -> None:  # fmt: skip
        fut = await self._producer_send(src_topic, p, topic, key, value, headers)
        if not self.eos:
            await fut  # at-least-once: durable before the offset can be committed
        if ts:
            metrics.LATENCY.observe(max(time.time() - ts, 0.0))

    async def _publish(
        self, stem: str, src_topic: str, p: int, ts: float | None, key: bytes | None, v: Valid
    ) -> None:
        await self._send(src_topic, p, self._clean[stem], key, self.pipeline.encode(stem, v.clean),
                         None, ts)  # fmt: skip
        metrics.CLEAN.labels(stem).inc()
        for rule in v.repairs:
            metrics.REPAIRED.labels(stem, rule).inc()

    async def _dead_letter(
        self, stem: str, src_topic: str, p: int, offset: int, ts: float | None,
        key: bytes | None, value: bytes | None, r: Rejected, via: str | None = None,
    ) -> None:  # fmt: skip
        headers = dlq_headers(r.reason, r.rule, src_topic, p, offset,
                              int(ts * 1000) if ts else None, r.exc_class, r.message)  # fmt: skip
        await self._send(via or src_topic, p, self._dlq[stem], key, value or b"", headers, ts)
        metrics.REJECTED.labels(stem, r.reason.value).inc()

    # -- ticks: decide parked facts, expire dedup keys ---------------------------------------
    async def _on_tick(self, topic: str, p: int, offset: int, state: PartitionState) -> None:
        state.ticks += 1
        if state.ticks % _EXPIRE_EVERY_TICKS == 0:
            self._expire(state)
        status = self.tracker.ready
        if status is None or not state.count:
            return
        for stem, records in list(state.by_stem.items()):
            await self._decide_ready(topic, p, offset, stem, records, status, state)

    async def _decide_ready(
        self, topic: str, p: int, offset: int, stem: str, records: dict[str, Parked],
        status: Status, state: PartitionState,
    ) -> None:  # fmt: skip
        """Decide the parked records of one entity whose barrier has passed, oldest first.

        Records are parked in offset order and get barriers in that order from a
        monotone status, so the first that is not ready ends the scan: a tick costs
        O(decided + newly barred), not O(parked), even with many thousands waiting.
        """
        ready: list[tuple[str, Parked]] = []
        fresh: list[Parked] = []
        for tk, parked in records.items():
            if parked.barrier is None:
                if status.epoch <= parked.park_epoch:
                    break
                fresh.append(parked)
                continue
            if status.epoch <= parked.barrier_epoch or not self._passed(parked, status):
                break
            ready.append((tk, parked))
        if fresh:
            await self._set_barriers(stem, fresh, status)
        for tk, parked in ready:
            if state.first_of_key(tk, parked):
                await self._decide(topic, p, offset, tk, parked, state)

    async def _set_barriers(self, stem: str, fresh: list[Parked], status: Status) -> None:
        """Give each fact in ``fresh`` (in offset order) the offsets its masters must pass.

        A fact's barrier is everything produced up to ``reference_grace`` after it: in
        each referenced partition, the first offset whose timestamp is past that
        (Kafka's offsets-for-times). Before a record was produced, that was all that
        could have been there. Without it, the barrier was the high-water mark when
        the fact was parked: in a backlog (a replay, a worker down for an hour) that
        is the end of the backlog, and facts read ahead of their masters waited for
        all of it (110,485 parked at once in a 1M-event run). A live stream has
        nothing past that time yet, so its barrier stays the high-water mark.

        One lookup per slice of the facts' time span (at most ``_BARRIER_SLICES``), at
        the slice's end: a barrier later than the fact's own is never wrong, it only
        decides later.
        """
        groups: dict[float | None, list[Parked]] = {}
        ends = barrier_times([f.ts for f in fresh], _BARRIER_SLICES)
        for f, until in zip(fresh, ends, strict=True):
            groups.setdefault(until, []).append(f)  # no timestamp (None): high-water mark
        for until, group in groups.items():
            barrier = await self._barrier(stem, until, status)
            for f in group:
                f.barrier = barrier
                f.barrier_epoch = status.epoch

    async def _barrier(
        self, stem: str, until_s: float | None, status: Status
    ) -> dict[tuple[str, int], int]:
        """Per referenced partition: the first offset produced after ``until_s`` + grace,
        or the high-water mark of ``status`` where that is earlier or nothing is."""
        hwm = {(t, q): status.raw_hwm[(t, q)] for t in self._ref_raw[stem]
               for q in range(self.partitions)}  # fmt: skip
        if until_s is None:
            return hwm
        at_ms = int(until_s * 1000 + self.grace_ms)
        try:
            found = await self.positions.offsets_at(list(hwm), at_ms)
        except KafkaException as e:  # the high-water mark is never too early
            metrics.RETRIES.labels("barrier_lookup").inc()
            log.warning("offsets-for-times lookup failed; waiting for the high-water mark",
                        extra={"error": repr(e)})  # fmt: skip
            return hwm
        return {tp: min(high, found[tp]) if found.get(tp, -1) >= 0 else high
                for tp, high in hwm.items()}  # fmt: skip

    def _passed(self, parked: Parked, status: Status) -> bool:
        """Have the referenced raw partitions been processed (and published) past the barrier?

        Masters are never parked, so the group's committed offset says they are done.
        A referent that can itself be parked (a sale) is done only below this worker's
        lowest parked offset of it, and once the tick that decided the last of them has
        committed (its clean output is then visible). Payments and commissions are keyed
        by sale_id like sales, so their sales live in partitions this worker owns.
        """
        assert parked.barrier is not None
        ticks = status.committed
        for (t, q), hwm in parked.barrier.items():
            done = status.committed.get((t, q), -1)
            ref = self._stem_of[t]
            if ref in self._parkable:
                local = self._states.get(q)
                if local is not None:
                    low = local.min_parked(ref)
                    if low is not None:
                        done = min(done, low)
                    if local.resolved_at.get(ref, -1) >= ticks.get((self.tick_topic, q), -1):
                        return False
            if done < hwm:
                return False
        return True

    async def _decide(
        self, tick_topic: str, p: int, tick_offset: int, tk: str, parked: Parked,
        state: PartitionState,
    ) -> None:  # fmt: skip
        row = self.parked[tk]
        value = base64.b64decode(row["v"])
        key = parked.key.encode()
        src = self.prefix + "raw." + parked.stem
        ts = row.get("ts")
        verdict = await self._evaluate(parked.stem, value)
        if isinstance(verdict, Valid):
            missing = [(f, r, v) for f, r, v in verdict.refs if not self.tracker.exists(r, v)]
            if missing:
                f, r, v = missing[0]
                await self._dead_letter(
                    parked.stem, src, p, parked.offset, ts, key, value,
                    Rejected(Reason.UNKNOWN_REFERENCE, f"reference.{f}", "UnknownReference",
                             f"{f}={v!r}: no such {r} record"),
                    via=tick_topic,
                )  # fmt: skip
            else:
                await self._publish(parked.stem, tick_topic, p, ts, key, verdict)
        else:
            await self._dead_letter(parked.stem, src, p, parked.offset, ts, key, value, verdict,
                                    via=tick_topic)  # fmt: skip
        del self.parked[tk]
        state.remove(tk, parked)
        metrics.PARKED.dec()
        if parked.stem in self._parkable:
            state.resolved_at[parked.stem] = tick_offset

    def _expire(self, state: PartitionState) -> None:
        """Forget dedup keys older than the window (event time), so state stays bounded."""
        for key in state.expired(self.window_ms):
            self.dedup.pop(key, None)


def _forget_on_revoke(table: Any) -> None:
    """Delete a revoked partition's local RocksDB files, so it is rebuilt from the changelog.

    Local files can hold changes of a transaction that never committed (aborted at a
    rebalance or lost in a crash). Faust's recovery only adds what the changelog holds
    on top of them, so a partition that comes back would carry those phantom rows
    (a parked record already decided elsewhere: published twice). Kafka Streams does
    the same under exactly-once: it trusts the changelog, not the local store. The
    worker's data dir is also wiped at every start for the same reason.
    """
    store = table.data
    revoke = store.revoke_partitions

    def revoke_partitions(tbl: Any, tps: set[Any]) -> None:
        revoke(tbl, tps)
        for tp in tps:
            if tp.topic in tbl.changelog_topic.topics:
                shutil.rmtree(store.partition_path(tp.partition), ignore_errors=True)

    store.revoke_partitions = revoke_partitions


_Change = tuple[str, int, bytes, bytes, Callable[[asyncio.Future[Any]], None]]
"""A table change to send: changelog topic, partition, key, value, what to call when sent."""


_JSON = json.JSONEncoder(separators=(",", ":"))  # json.dumps(..., separators) builds one per call
_NO_WAL = rocksdict.WriteOptions()
_NO_WAL.disable_wal = True  # type: ignore[method-assign,assignment]  # a property; the stub is wrong


def table_bytes(value: Any) -> bytes:
    """A table key or value as Faust's ``json`` codec writes it (compact separators)."""
    return _JSON.encode(value).encode()


def _on_sent(table: Any) -> Callable[[asyncio.Future[Any]], None]:
    """Tell ``table`` its change was delivered, as Faust's own changelog callback does."""

    def sent(done: asyncio.Future[Any]) -> None:
        if not done.cancelled() and done.exception() is None:  # a failed one fails the commit
            table._on_changelog_sent(done)

    return sent


def _settle(fut: Any, done: asyncio.Future[Any]) -> None:
    """Complete Faust's future for a changelog record the way its own producer path does."""
    exc = done.exception()
    if exc is not None:
        fut.set_exception(exc)
        return
    fut.set_result(done.result())
    if fut.message.callback:
        fut.message.callback(fut)


class _Periodic:
    """A daemon thread that calls :meth:`_every` each ``interval_s`` until stopped."""

    def __init__(self, name: str, interval_s: float) -> None:
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._every()
        self._finish()

    def _every(self) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """Called once after the last round."""


class _Watchdog(_Periodic):
    """Logs a warning when one phase of the worker lasts longer than ``limit_s``.

    A worker that stops making progress says where it stopped (waiting for the
    commit lock, for table changes to be delivered, ...), so an operator can
    see it in the log, and the lag alert has a cause next to it.
    """

    def __init__(self, processor: Processor, limit_s: float = 30.0) -> None:
        super().__init__("watchdog", 5.0)
        self._processor = processor
        self._limit = limit_s
        self._warned_at: float | None = None

    def _every(self) -> None:
        phase, since = self._processor.phase
        stuck = time.monotonic() - since
        if phase != "agent: waiting for records" and stuck > self._limit:
            if self._warned_at != since:
                log.warning("worker stalled", extra={
                    "phase": phase, "for_s": round(stuck),
                    "changes_in_flight": len(self._processor._pending_changes)})  # fmt: skip
                self._warned_at = since
            metrics.STALLED.set(stuck)
        else:
            metrics.STALLED.set(0)


class _Ticker(_Periodic):
    """Writes an empty record to every tick partition periodically (plain, not transactional)."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, interval_s: float) -> None:
        super().__init__("ticker", interval_s)
        self._producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
        self._topic = topic
        self._n = partitions

    def _every(self) -> None:
        for p in range(self._n):
            with contextlib.suppress(BufferError):  # a tick is a nudge; another comes soon
                self._producer.produce(self._topic, b"", partition=p)
        self._producer.poll(0)

    def _finish(self) -> None:
        self._producer.flush(5)
