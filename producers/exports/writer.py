"""The export loop: simulated events -> landing-zone files -> storage, and the file-run ledger.

Who calls it: ``orion produce --to-files`` (:func:`run_export`) and tests
(:class:`FileWriter` over any events). Each entity's events are buffered in
its open file, in stream order; a file is finished when it is full (its row
cap, drawn per file) or when the simulated clock (the highest ``produced_at``
seen) enters a new month, which finishes every open file; the end of the run
finishes the rest. Finishing a file is, in this order: encode the rows
(:mod:`~producers.exports.plan` picks the format,
:mod:`~producers.exports.style` the mess), hash the bytes, store them, and
only then write the rows' ledger lines with the ids the ingester will derive
(:mod:`producers.exports.ledger`). If storing fails, ExportError propagates:
every file stored before has its ledger lines, the failed file has none.

Everything is deterministic from the seed: the same run gives the same files
byte for byte (tested), hence the same derived ids.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from producers.events import SimEvent
from producers.exports.columns import columns_of, decimal_comma, to_datetime
from producers.exports.csv_format import csv_bytes
from producers.exports.json_format import json_bytes
from producers.exports.ledger import IdRewriter
from producers.exports.plan import MAX_ROWS, MIN_ROWS, PLANS, Format, file_key, month_of
from producers.exports.storage import Storage
from producers.exports.style import draw_style
from producers.exports.xlsx_format import xlsx_bytes
from producers.ledger import LedgerWriter
from producers.simulation import SimulationConfig, simulate

__all__ = ["ExportOptions", "ExportStats", "FileWriter", "run_export"]

_CHECK_EVERY = 1000


@dataclass(frozen=True)
class ExportOptions:
    """How much to export and where the ledger goes."""

    events: int | None = None
    duration_s: float | None = None
    ledger: Path | None = None


@dataclass
class ExportStats:
    events: int = 0
    """Events the simulator yielded, poison included."""
    rows: int = 0
    poison_skipped: int = 0
    files: Counter[str] = field(default_factory=Counter)
    rows_by_format: Counter[str] = field(default_factory=Counter)
    bytes_by_format: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float:
        """Rows written per second."""
        return self.rows / self.elapsed_s if self.elapsed_s else 0.0


@dataclass
class _OpenFile:
    number: int
    rng: random.Random
    cap: int
    events: list[SimEvent] = field(default_factory=list)


class FileWriter:
    """Turns a stream of SimEvents into finished files; use as a context manager.

    :meth:`add` is called once per event in stream order; :meth:`close`
    finishes every open file (leaving the ``with`` does it too, also after an
    error, so what was buffered is not lost unless storing it fails).
    """

    def __init__(
        self,
        storage: Storage,
        seed: int,
        ledger: LedgerWriter | None = None,
        on_file: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self._storage = storage
        self._seed = seed
        self._ledger = ledger
        self._on_file = on_file
        self._ids = IdRewriter()
        self._open: dict[str, _OpenFile] = {}
        self._numbers: Counter[str] = Counter()
        self._clock = 0
        self._day = -1
        self._month = -1
        self.stats = ExportStats()

    def add(self, ev: SimEvent) -> None:
        """Buffer one event (poison is counted and left out: it has no file form)."""
        self.stats.events += 1
        value = ev.value
        if value is None:
            self.stats.poison_skipped += 1
            return
        produced = value["produced_at"]
        if produced > self._clock:
            self._clock = produced
            day = produced // 86_400_000
            if day != self._day:
                self._day = day
                month = month_of(produced)
                if month != self._month:
                    self._month = month
                    self.finish_all()
        stem = ev.topic.removeprefix("raw.")
        f = self._open.get(stem)
        if f is None:
            f = self._open[stem] = self._new_file(stem)
        f.events.append(ev)
        if len(f.events) >= f.cap:
            self._finish(stem)

    def finish_all(self) -> None:
        """Finish every open file, in entity order."""
        for stem in sorted(self._open):
            self._finish(stem)

    def close(self) -> None:
        self.finish_all()

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _new_file(self, stem: str) -> _OpenFile:
        self._numbers[stem] += 1
        number = self._numbers[stem]
        # Simulation, not cryptography: a seeded PRNG per file is the point.
        rng = random.Random(f"{self._seed}:{stem}:{number}")  # noqa: S311
        return _OpenFile(number, rng, rng.randint(MIN_ROWS, MAX_ROWS))

    def _finish(self, stem: str) -> None:
        f = self._open.pop(stem)
        plan = PLANS[stem]
        cols = columns_of(stem)
        rows = [ev.value or {} for ev in f.events]
        style = draw_style(plan.format, cols, len(rows), f.rng)
        if plan.format is Format.CSV:
            data = csv_bytes(cols, rows, style, plan)
        elif plan.format is Format.XLSX:
            exported = to_datetime(max(r["produced_at"] for r in rows))
            data = xlsx_bytes(cols, rows, style, cols.entity.name.title(), exported)
        else:
            data = json_bytes(cols, rows, style, plan.format)
        comma_rows: frozenset[int] = frozenset()
        if plan.decimal_comma:
            comma_rows = frozenset(
                i
                for i, r in enumerate(rows)
                if any(decimal_comma(r.get(m)) is not None for m in cols.money)
            )
        sha = hashlib.sha256(data).hexdigest()
        key = file_key(cols.entity, f.number, plan.format)
        self._storage.put(key, data, sha)
        if self._on_file is not None:
            self._on_file(key, data)
        records = self._ids.rewrite([ev.ledger for ev in f.events], sha, comma_rows)
        if self._ledger is not None:
            for rec in records:
                self._ledger.write(rec)
        s = self.stats
        s.rows += len(rows)
        s.files[plan.format] += 1
        s.rows_by_format[plan.format] += len(rows)
        s.bytes_by_format[plan.format] += len(data)


def run_export(
    sim: SimulationConfig,
    options: ExportOptions,
    storage: Storage,
    stop: threading.Event | None = None,
) -> ExportStats:
    """Simulate and export until the budget is spent or ``stop`` is set; finish every file."""
    storage.check()
    started = time.monotonic()
    deadline = started + options.duration_s if options.duration_s else None
    ledger = LedgerWriter(options.ledger) if options.ledger else None
    try:
        with FileWriter(storage, sim.seed, ledger) as writer:
            for ev in simulate(sim):
                writer.add(ev)
                if writer.stats.events % _CHECK_EVERY == 0 and (
                    (stop is not None and stop.is_set())
                    or (deadline is not None and time.monotonic() >= deadline)
                ):
                    break
    finally:
        if ledger is not None:
            ledger.close()
    writer.stats.elapsed_s = time.monotonic() - started
    return writer.stats
