"""``orion produce --workers N``: simulate here, encode and send in N worker processes.

Who calls it: :func:`producers.runner.run` when ``workers`` > 1, after it has
checked the broker and registered the schemas. Why: one process spends
about a third of each event simulating and the rest encoding, formatting
the ledger and producing (profile in BENCHMARKS.md), so those move to other
cores. The split is :mod:`producers.split`: one simulation, events cut into
chunks, each event to the worker its (topic, key) names, the ledger merged
back in stream order. Same seed, same events and byte-identical ledger
whatever N is.

Pacing: with a rate, a chunk goes out when it is 2 ms old or before the
pacer sleeps longer than that, so a record still reaches Kafka within a few
milliseconds of its due time (its Kafka timestamp is set by the worker's
``produce()``). The stop event, the event budget and the deadline are
checked between events, as in the one-process loop; a stop sends what is
simulated, lets every worker flush, and writes the ledger to the end.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from orion.serde import AvroEncoder
from orion.settings import OrionSettings
from producers import metrics
from producers.delivery import FLUSH_TIMEOUT_S
from producers.events import SimEvent
from producers.exceptions import ProducerError
from producers.ledger import LedgerWriter
from producers.simulation import SimulationConfig, simulate
from producers.split import interleave, split
from producers.worker import Report, WorkerSpec, worker_main

if TYPE_CHECKING:
    from producers.runner import ProduceOptions, ProduceStats

__all__ = ["CHUNK_EVENTS", "WorkerError", "WorkerPool", "run_workers"]

CHUNK_EVENTS = 1000
"""Events per chunk at full speed: one pickle and one pipe write per worker per chunk."""
CHUNK_AGE_S = 0.002
"""With a rate, the longest an event waits here before it goes to its worker."""
MAX_IN_FLIGHT = 8
"""Chunks sent but not yet answered by every worker: bounds memory, and is the back-pressure."""
START_TIMEOUT_S = 60.0


class WorkerError(ProducerError):
    """A producer worker failed to start or went away mid-run; the run stops."""


@dataclass
class _Pending:
    order: bytes
    lines: list[list[str] | None]
    waiting: int


class WorkerPool:
    """N worker processes, the chunks they still owe an answer for, and the ledger they feed.

    ``apply`` is called with every worker report (in this thread), to count it.
    Use as a context manager: leaving it stops the workers (flushing) and
    closes the ledger.
    """

    def __init__(
        self,
        spec: WorkerSpec,
        workers: int,
        ledger: LedgerWriter | None,
        apply: Callable[[Report], None],
    ) -> None:
        ctx = mp.get_context("spawn")  # no fork of a process with threads (metrics server)
        self._n = workers
        self._ledger = ledger
        self._apply = apply
        self._answers: queue.Queue[tuple[int, str, Any]] = queue.Queue()
        self._pending: deque[_Pending] = deque()
        self._head = 0  # chunk number of self._pending[0]
        self._next_chunk = 0
        self._conns: list[Connection] = []
        self._procs: list[BaseProcess] = []
        self._open = 0
        for w in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=worker_main, args=(child, spec), name=f"orion-producer-{w}", daemon=True
            )
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
            threading.Thread(
                target=self._read, args=(w, parent), name=f"producer-worker-{w}", daemon=True
            ).start()
        self._open = workers
        self._await_ready()

    def _read(self, w: int, conn: Connection) -> None:
        """Reader thread: a worker's answers into one queue (a pipe never fills up both ways)."""
        while True:
            try:
                kind, body = conn.recv()
            except (EOFError, OSError):
                self._answers.put((w, "gone", None))
                return
            self._answers.put((w, kind, body))
            if kind in ("final", "failed"):
                return

    def _await_ready(self) -> None:
        ready = 0
        deadline = time.monotonic() + START_TIMEOUT_S
        while ready < self._n:
            try:
                w, kind, body = self._answers.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise WorkerError(
                    f"producer workers did not start within {START_TIMEOUT_S:.0f}s"
                ) from None
            if kind != "ready":
                self._stop_all()
                raise WorkerError(f"producer worker {w} did not start: {body or kind}")
            ready += 1

    def send(self, events: list[SimEvent]) -> None:
        """Hand a chunk of the stream to the workers; waits while too many are unanswered."""
        if not events:
            return
        while len(self._pending) >= MAX_IN_FLIGHT:
            self._handle(self._answers.get())
        order, parts = split(events, self._n)
        chunk = self._next_chunk
        self._next_chunk += 1
        lines: list[list[str] | None] = [[] if not p else None for p in parts]
        self._pending.append(_Pending(order, lines, sum(1 for p in parts if p)))
        for w, part in enumerate(parts):
            if part:
                self._conns[w].send((chunk, part))
        self._write_done()

    def collect(self) -> None:
        """Take the answers that are in without waiting (count them, write finished ledger)."""
        while True:
            try:
                answer = self._answers.get_nowait()
            except queue.Empty:
                return
            self._handle(answer)

    def _handle(self, answer: tuple[int, str, Any]) -> None:
        w, kind, body = answer
        if kind == "chunk":
            chunk, text, report = body
            pending = self._pending[chunk - self._head]
            pending.lines[w] = text.split("\n") if text else []
            pending.waiting -= 1
            self._apply(report)
            self._write_done()
        elif kind == "final":
            self._apply(body)
            self._open -= 1
        else:
            self._open -= 1
            raise WorkerError(f"producer worker {w} stopped unexpectedly ({body or kind})")

    def _write_done(self) -> None:
        while self._pending and self._pending[0].waiting == 0:
            done = self._pending.popleft()
            self._head += 1
            if self._ledger is not None:
                self._ledger.write_lines(interleave(done.order, [p or [] for p in done.lines]))

    def close(self) -> None:
        """Tell every worker to stop, take their last answers (they flush first), join them."""
        for conn in self._conns:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(None)
        deadline = time.monotonic() + FLUSH_TIMEOUT_S + 30
        try:
            while self._open and time.monotonic() < deadline:
                try:
                    self._handle(self._answers.get(timeout=1.0))
                except queue.Empty:
                    continue
        finally:
            self._stop_all()
        if self._open:
            raise WorkerError(f"{self._open} producer worker(s) did not finish their flush")
        if self._pending:
            raise WorkerError(f"{len(self._pending)} chunk(s) never answered by the workers")

    def _stop_all(self) -> None:
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
        for conn in self._conns:
            conn.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_workers(
    settings: OrionSettings,
    encoders: dict[str, AvroEncoder],
    sim: SimulationConfig,
    options: ProduceOptions,
    stop: threading.Event,
    on_progress: Callable[[ProduceStats], None] | None = None,
) -> ProduceStats:
    """The producing loop of :func:`producers.runner.run`, with the sending in worker processes."""
    from producers.runner import ProduceStats, producer_config

    stats = ProduceStats()
    spec = WorkerSpec(
        producer_config=producer_config(settings),
        schema_ids={t: e.schema_id for t, e in encoders.items()},
        prefix=settings.topic_prefix,
        max_retries=options.max_retries,
        ledger=options.ledger is not None,
    )

    def apply(report: Report) -> None:
        stats.delivered += report.delivered
        stats.retried += report.retried
        stats.failed += report.failed
        stats.bytes += report.bytes
        metrics.DELIVERED.inc(report.delivered)
        for latency in report.latencies:
            metrics.DELIVERY_LATENCY.observe(latency)
        for (topic, again), n in report.errors.items():
            metrics.DELIVERY_ERRORS.labels(topic, str(again).lower()).inc(n)

    ledger = LedgerWriter(options.ledger) if options.ledger else None
    started = time.monotonic()
    try:
        with WorkerPool(spec, options.workers, ledger, apply) as pool:
            started = time.monotonic()
            _dispatch(pool, sim, options, stop, stats, on_progress)
    finally:
        if ledger is not None:
            ledger.close()
        stats.elapsed_s = time.monotonic() - started
    return stats


def _dispatch(
    pool: WorkerPool,
    sim: SimulationConfig,
    options: ProduceOptions,
    stop: threading.Event,
    stats: ProduceStats,
    on_progress: Callable[[ProduceStats], None] | None,
) -> None:
    """Simulate, count and cut into chunks until the budget is spent or ``stop`` is set."""
    deadline = time.monotonic() + options.duration_s if options.duration_s else None
    budget = options.events
    rate = options.rate
    interval = 1.0 / rate if rate else 0.0
    next_at = time.monotonic()
    chunk: list[SimEvent] = []
    chunk_at = 0.0
    kinds: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for ev in simulate(sim):
        if stop.is_set() or (budget is not None and stats.sent >= budget):
            break
        if rate:
            now = time.monotonic()
            delay = next_at - now
            if chunk and (delay > CHUNK_AGE_S or now - chunk_at >= CHUNK_AGE_S):
                pool.send(chunk)
                chunk = []
            if delay > 0:
                time.sleep(delay)
            next_at += interval
            if not chunk:
                chunk_at = time.monotonic()
        chunk.append(ev)
        kinds[(ev.topic, ev.ledger.defects)] += 1
        stats.sent += 1
        if len(chunk) >= CHUNK_EVENTS:
            pool.send(chunk)
            chunk = []
        if stats.sent % 1000 == 0:
            _count(kinds, stats)
            pool.collect()
            if deadline is not None and time.monotonic() >= deadline:
                break
            if on_progress is not None:
                on_progress(stats)
    pool.send(chunk)
    _count(kinds, stats)


def _count(kinds: Counter[tuple[str, tuple[str, ...]]], stats: ProduceStats) -> None:
    """Events handed over, by topic and defect, into the stats and the metrics (in bulk)."""
    for (topic, defects), n in kinds.items():
        defect = ",".join(defects) or "none"
        stats.by_topic[topic] += n
        stats.by_defect[defect] += n
        metrics.EVENTS.labels(topic, defect).inc(n)
    kinds.clear()
