"""What happens to one raw record, and to parked facts: the processor's logic without Kafka.

Who calls it: the engine (:mod:`stream_processors.engine`) inside a
transaction, with an ``emit`` function that produces into it. Per record:
decode and apply the entity's rules (:mod:`.pipeline`), drop duplicates,
park facts whose master is not known yet, and emit to ``clean.*`` or
``dlq.*`` on the *same partition number* it was read from. Every state
change goes to the partition's :class:`~stream_processors.state.PartitionState`,
which the engine writes to the changelogs in the same transaction.

Deduplication covers rejects too: an exact re-send (or a business duplicate)
of an event that was dead-lettered is dropped as a duplicate, so replaying a
window from the bronze archive does not double the dead letters (nor fire the
dead-letter alert). A record ``orion replay dlq`` re-fed (header
``orion.replayed.from``) is judged again and dead-lettered again if it still
fails: the operator asked. A record re-read at the *same* offset (an operator
rewound the group) is the same record, not a duplicate: its verdict is
emitted again. Bytes that do not decode have no identity, so a re-send of
them is dead-lettered again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from orion import deadletter
from orion.provenance import clean_headers
from orion.reasons import Reason
from stream_processors import metrics
from stream_processors.barriers import BarrierLookup, barrier_times
from stream_processors.dlq import dlq_headers
from stream_processors.pipeline import Pipeline, Rejected, Valid
from stream_processors.record_size import HEADROOM, MAX_RECORD_BYTES, raw_fits, wire_size
from stream_processors.references import ReferenceTracker, Status
from stream_processors.rules import REFERENT_STEMS, rules_for
from stream_processors.state import Judged, Parked, PartitionState, Seen, dedup_key

__all__ = ["Emit", "Headers", "OutHeaders", "Processor"]

log = logging.getLogger("orion.processor")
OutHeaders = list[tuple[str, str | bytes | None]]
Emit = Callable[[str, int, bytes | None, bytes, OutHeaders | None], None]
"""emit(topic, partition, key, value, headers): produce one record into the transaction."""
Headers = list[tuple[str, str | bytes | None]] | dict[str, str | bytes | None] | None
"""A raw record's headers, as confluent-kafka hands them over."""
_BARRIER_SLICES = 20


class Processor:
    """Rules, dedup, parking and decisions for every entity; one per worker."""

    def __init__(
        self,
        pipeline: Pipeline,
        prefix: str,
        stems: list[str],
        partitions: int,
        tracker: ReferenceTracker,
        barriers: BarrierLookup,
    ) -> None:
        self.pipeline = pipeline
        self.prefix = prefix
        self.tracker = tracker
        self.barriers = barriers
        self.stem_of = {prefix + "raw." + s: s for s in stems}
        self._clean = {s: prefix + "clean." + s for s in stems}
        self._dlq = {s: prefix + "dlq." + s for s in stems}
        refs = {s: sorted({r for _, r in rules_for(s).entity.references}) for s in stems}
        self._ref_tps = {
            s: [(prefix + "raw." + r, q) for r in refs[s] for q in range(partitions)] for s in stems
        }
        # Referenced entities that have references themselves, so may be parked (sales).
        self.parkable = frozenset(r for r in REFERENT_STEMS if refs.get(r))
        self._key_field = {s: rules_for(s).entity.partition_key for s in stems}
        """Clean records are keyed by their repaired partition key, not by the raw key:
        a source (or a file row) that sends a damaged id as the key would otherwise give
        the reference index a key no fact looks up (found with file exports, 2026-12-01)."""
        self._topic = {s: prefix + "raw." + s for s in stems}
        """The metrics' ``topic`` label: the raw topic a record was read from."""
        self.tally = metrics.Tally()
        self._outputs = 0
        """Metric changes of the running transaction: applied at commit, dropped at abort."""

    # -- one raw record ---------------------------------------------------------------------
    def handle(
        self, state: PartitionState, emit: Emit, stem: str, offset: int, ts_ms: int | None,
        key: bytes | None, value: bytes | None, headers: Headers,
    ) -> None:  # fmt: skip
        """Decide one record of ``stem`` read from partition ``state.partition`` at ``offset``."""
        self.tally.count(metrics.EVENTS_IN, self._topic[stem])
        if not raw_fits(key, value):  # no identity: like bytes that do not decode
            size = len(key or b"") + len(value or b"")
            self._dead_letter(emit, stem, state.partition, offset, ts_ms, key, value,
                              _too_large("raw.size", size))  # fmt: skip
            return
        verdict = self.pipeline.evaluate(stem, value)  # ServiceUnavailableError: engine retries
        replayed = _replayed(headers)
        at_ms = _record_time(ts_ms)
        identity = verdict.identity if isinstance(verdict, Rejected) else None
        if isinstance(verdict, Valid):
            exists = self.tracker.exists
            healed = all(exists(r, v) for _, r, v in verdict.refs)
            if self._duplicate(state, stem, offset, key, verdict.event_id, at_ms,
                               verdict.content, rejected=False,
                               judge_again=replayed or healed):  # fmt: skip
                return
        elif identity is not None and self._duplicate(
            state, stem, offset, key, identity.event_id, at_ms,
            identity.content, rejected=True, judge_again=replayed,
        ):  # fmt: skip
            return
        p = state.partition
        if isinstance(verdict, Rejected):
            self._dead_letter(emit, stem, p, offset, ts_ms, key, value, verdict)
            return
        raw_key, key = key, str(verdict.clean[self._key_field[stem]]).encode()
        parked = state.parked
        if verdict.refs:
            exists = self.tracker.exists
            missing = [(r, v) for _, r, v in verdict.refs if not exists(r, v)]
            if missing or parked.waiting(stem, key):
                judged = self._judged(stem, verdict)
                parked.park(Parked(stem, offset, key, ts_ms, value or b"", time.time(), replayed,
                                   self.tracker.epoch, judged=judged), missing)  # fmt: skip
                return
        clean = self.pipeline.encode(stem, verdict.clean)
        self._publish(emit, stem, p, offset, ts_ms, key, clean, verdict.repairs, raw_key, value)

    def _duplicate(
        self, state: PartitionState, stem: str, offset: int, key: bytes | None, event_id: str,
        at_ms: int, content: str, *, rejected: bool, judge_again: bool,
    ) -> bool:  # fmt: skip
        """True for an event seen before at another offset (and remember it when new).

        ``at_ms`` is the record time, the dedup table's clock (see :mod:`.state.dedup`).

        An event dead-lettered before is judged again only when ``orion replay dlq``
        re-fed it, or when it now passes everything (rules and references: a re-sent
        orphan whose master has arrived since), never to be dead-lettered twice."""
        ck = dedup_key(stem, key, content)
        dedup = state.dedup
        seen = dedup.lookup(ck)
        if seen is not None and seen.offset != offset and not (seen.rejected and judge_again):
            kind = "exact" if seen.event_id == event_id else "business"
            self.tally.count(metrics.DUPLICATES, self._topic[stem],
                             "rejected" if seen.rejected else kind)  # fmt: skip
            dedup.saw(stem, at_ms)
            return True
        if seen is None or seen.offset != offset:
            dedup.remember(stem, ck, Seen(at_ms, offset, rejected, event_id))
        else:
            dedup.saw(stem, at_ms)
        return False

    # -- outputs ----------------------------------------------------------------------------
    def _publish(
        self, emit: Emit, stem: str, p: int, offset: int, ts_ms: int | None,
        key: bytes | None, clean: bytes, repairs: list[str], raw_key: bytes | None,
        raw: bytes | None,
    ) -> None:  # fmt: skip
        """Emit a clean record; one too large to produce is dead-lettered with the raw bytes
        (a long id is the clean record's key and one of its fields: twice its raw size)."""
        headers = clean_headers(self._topic[stem], p, offset, ts_ms, repairs)
        size = wire_size(key, clean, headers)
        if size > MAX_RECORD_BYTES:
            self._dead_letter(emit, stem, p, offset, ts_ms, raw_key, raw,
                              _too_large("clean.size", size))  # fmt: skip
            return
        emit(self._clean[stem], p, key, clean, headers)
        self.tally.count(metrics.CLEAN, self._topic[stem])
        for rule in repairs:
            self.tally.count(metrics.REPAIRED, self._topic[stem], rule)
        self._latency(ts_ms)

    def _dead_letter(
        self, emit: Emit, stem: str, p: int, offset: int, ts_ms: int | None, key: bytes | None,
        value: bytes | None, r: Rejected,
    ) -> None:  # fmt: skip
        headers = dlq_headers(r.reason, r.rule, self._topic[stem], p, offset, ts_ms,
                              r.exc_class, r.message)  # fmt: skip
        value = value or b""
        if wire_size(key, value, headers) > MAX_RECORD_BYTES:
            key, value, headers = _without_payload(key, value, headers)
        emit(self._dlq[stem], p, key, value, headers)
        self.tally.count(metrics.REJECTED, self._topic[stem], r.reason.value)
        self._latency(ts_ms)

    def _latency(self, ts_ms: int | None) -> None:
        """Observe one output in :data:`_LATENCY_SAMPLE` (a histogram observation cost
        ~4 us, as much as the rest of the metrics of a record together)."""
        self._outputs += 1
        if ts_ms and not self._outputs % _LATENCY_SAMPLE:
            self.tally.observe(metrics.LATENCY, time.time() - ts_ms / 1000)

    # -- parked facts ---------------------------------------------------------------------
    def release_arrived(self, states: dict[int, PartitionState], emit: Emit) -> int:
        """Publish the parked facts whose missing referents the index has read since.

        A positive decision needs no barrier: once every referent is known, the fact
        is valid whatever comes later, so it goes out at once (per key in order: only
        the first fact of a key, then the next). Only a *missing* referent needs the
        barrier. Facts restored from the changelog, and facts of an aborted
        transaction, are left to the barrier pass.
        """
        arrived = self.tracker.arrived
        released = 0
        while arrived:
            ref = arrived.popleft()
            for state in states.values():
                for parked in state.parked.waiting_on.pop(ref, ()):
                    released += self._release_known(state, emit, parked)
        return released

    def _release_known(self, state: PartitionState, emit: Emit, parked: Parked | None) -> int:
        released = 0
        table = state.parked
        exists = self.tracker.exists
        while (
            parked is not None
            and parked.judged is not None
            and table.is_parked(parked)
            and table.first_of_key(parked)
            and all(exists(r, v) for _, r, v in parked.judged.refs)
        ):
            after = table.next_of_key(parked)
            self._release(state, emit, parked)
            released += 1
            parked = after
        return released

    # -- parked facts: the barrier ---------------------------------------------------------
    def decide(self, states: dict[int, PartitionState], emit: Emit, status: Status) -> int:
        """Decide every parked fact whose barrier has passed on ``status``; returns how many."""
        decided = 0
        for state in states.values():
            for stem in list(state.parked.by_stem):
                decided += self._decide_stem(states, state, emit, stem, status)
        return decided

    def _decide_stem(
        self, states: dict[int, PartitionState], state: PartitionState, emit: Emit, stem: str,
        status: Status,
    ) -> int:  # fmt: skip
        """Decide the parked facts of one entity whose barrier has passed, oldest first.

        Facts are parked in offset order and get barriers in that order from a
        monotone status, so the first that is not ready ends the scan: a pass costs
        O(decided + newly barred), not O(parked), even with many thousands waiting.
        """
        ready: list[Parked] = []
        fresh: list[Parked] = []
        for parked in state.parked.by_stem[stem].values():
            if parked.barrier is None:
                if status.epoch <= parked.park_epoch:
                    break
                fresh.append(parked)
                continue
            if status.epoch < parked.barrier_epoch or not self._passed(states, parked, status):
                break
            ready.append(parked)
        if fresh:
            self._set_barriers(stem, fresh, status)
        decided = 0
        for parked in ready:
            if state.parked.first_of_key(parked):
                self._release(state, emit, parked)
                decided += 1
        return decided

    def _set_barriers(self, stem: str, fresh: list[Parked], status: Status) -> None:
        groups: dict[int | None, list[Parked]] = {}
        ends = barrier_times([f.ts_ms for f in fresh], _BARRIER_SLICES)
        for f, until in zip(fresh, ends, strict=True):
            groups.setdefault(until, []).append(f)
        for until, group in sorted(groups.items(), key=lambda g: -1 if g[0] is None else g[0]):
            barrier = self.barriers.barrier(self._ref_tps[stem], until, status)
            if barrier is None:
                break  # later slices are not decidable either
            for f in group:
                f.barrier = barrier
                f.barrier_epoch = status.epoch

    def _passed(self, states: dict[int, PartitionState], parked: Parked, status: Status) -> bool:
        """Have the referenced raw partitions been processed (and published) past the barrier?

        Masters are never parked, so the group's committed offset says they are done.
        A referent that can itself be parked (a sale) is done only below this worker's
        lowest parked offset of it, and once a status polled after the transaction that
        last released one of them (its clean output is then in the index). Payments and
        commissions are keyed by sale_id like sales, so their sales live in partitions
        this worker owns.
        """
        assert parked.barrier is not None
        for (t, q), offset in parked.barrier.items():
            done = status.done((t, q))
            ref = self.stem_of[t]
            if ref in self.parkable:
                local = states.get(q)
                if local is not None:
                    low = local.parked.lowest(ref)
                    if low is not None:
                        done = min(done, low)
                    if local.released_epoch.get(ref, -1) >= status.epoch:
                        return False
            if done < offset:
                return False
        return True

    @staticmethod
    def _rejected_before(state: PartitionState, ck: bytes, parked: Parked) -> bool:
        """This event was dead-lettered already from another offset (a re-send of an
        orphan): not again, unless ``orion replay dlq`` asked for it."""
        seen = state.dedup.lookup(ck)
        return (
            seen is not None and seen.rejected and seen.offset != parked.offset
            and not parked.replayed
        )  # fmt: skip

    def _judged(self, stem: str, v: Valid) -> Judged:
        clean = self.pipeline.encode(stem, v.clean)
        return Judged(clean, v.refs, v.repairs, v.event_id, v.content)

    def _release(self, state: PartitionState, emit: Emit, parked: Parked) -> None:
        """Publish a parked fact, or dead-letter it (a referent is missing after all).

        A dead-lettered one is remembered as rejected in the dedup state (it was
        remembered as valid when parked), so ``orion replay dlq`` re-feeding it once
        its master arrived has it judged again instead of dropped as a duplicate; and
        a plain re-send of it that still lacks its master is dropped, not dead-lettered
        a second time.
        """
        p = state.partition
        judged = parked.judged
        if judged is None:  # restored from the changelog: judge it again
            verdict = self.pipeline.evaluate(parked.stem, parked.value)
            if isinstance(verdict, Valid):
                judged = self._judged(parked.stem, verdict)
            else:
                self._dead_letter(emit, parked.stem, p, parked.offset, parked.ts_ms, parked.key,
                                  parked.value, verdict)  # fmt: skip
        if judged is not None:
            missing = [(f, r, v) for f, r, v in judged.refs if not self.tracker.exists(r, v)]
            ck = dedup_key(parked.stem, parked.key, judged.content)
            if missing and self._rejected_before(state, ck, parked):
                self.tally.count(metrics.DUPLICATES, self._topic[parked.stem], "rejected")
            elif missing:
                f, r, v = missing[0]
                self._dead_letter(
                    emit, parked.stem, p, parked.offset, parked.ts_ms, parked.key, parked.value,
                    Rejected(Reason.UNKNOWN_REFERENCE, f"reference.{f}", "UnknownReference",
                             f"{f}={v!r}: no such {r} record"),
                )  # fmt: skip
                state.dedup.remember(
                    parked.stem, ck, Seen(_record_time(parked.ts_ms), parked.offset, True,
                                          judged.event_id)
                )  # fmt: skip
            else:
                self._publish(emit, parked.stem, p, parked.offset, parked.ts_ms, parked.key,
                              judged.clean, judged.repairs, parked.key, parked.value)  # fmt: skip
        state.parked.release(parked)
        self.tally.observe(metrics.PARKED_SECONDS, time.time() - parked.parked_at)
        if parked.stem in self.parkable:
            state.released(parked.stem)


_LATENCY_SAMPLE = 16


def _too_large(rule: str, size: int) -> Rejected:
    return Rejected(Reason.RECORD_TOO_LARGE, rule, "RecordTooLarge",
                    f"{size} bytes: more than the {MAX_RECORD_BYTES - HEADROOM} this processor "
                    f"can take (its records may have at most {MAX_RECORD_BYTES})")  # fmt: skip


def _without_payload(
    key: bytes | None, value: bytes, headers: OutHeaders
) -> tuple[bytes | None, bytes, OutHeaders]:
    """The dead letter without its value, and without its key when that alone is too large
    (see :mod:`stream_processors.record_size`)."""
    omitted = f"{len(value)} value bytes"
    small = [*headers, (deadletter.PAYLOAD_OMITTED, b"")]
    if wire_size(key, b"", small) > MAX_RECORD_BYTES:
        omitted += f", {len(key or b'')} key bytes"
        key = None
    return key, b"", [*headers, (deadletter.PAYLOAD_OMITTED, f"{omitted} omitted".encode())]


def _record_time(ts_ms: int | None) -> int:
    """The dedup clock of a raw record: its Kafka timestamp, or now if it has none."""
    return int(time.time() * 1000) if ts_ms is None else ts_ms


def _replayed(headers: Headers) -> bool:
    if not headers:
        return False
    if isinstance(headers, dict):
        return deadletter.REPLAYED_FROM in headers
    return any(k == deadletter.REPLAYED_FROM for k, _ in headers)
