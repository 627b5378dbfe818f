"""The file ingester: one file, one pass over the landing zone, and the watch loop.

Who calls it: ``orion ingest files`` (one pass) and ``orion ingest files
--watch`` (a service: passes until SIGTERM). One file at a time, in the
order :meth:`LandingZone.pending` gives (referents first, then key order):
read it whole from S3, hash it, stream its rows through the reader and the
row builder to Kafka, wait until the broker has acknowledged every row, and
only then move the file to ``processed/`` or ``rejected/`` with its report.

What can go wrong, and what happens:

- the file is unreadable, has no required column, or some rows cannot
  become events: it is *rejected* with a report (rows that could become
  events are still published; a corrected file dropped again gets new ids,
  and the processors recognise its rows as duplicates of the published ones);
- S3 or Kafka fails: the file stays in ``landing/`` (counted in
  ``orion_ingest_failures_total``) and is tried again on the next pass, and
  the rest of that entity's files wait behind it so its events stay in order;
  after an S3 failure other entities go on, after a Kafka failure (rows not
  acknowledged in ``ack_timeout_s``) the pass ends: every file would wait as
  long;
- the process is killed: the file is still in ``landing/``; read again, its
  rows get the same ids; nothing is doubled.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from orion import s3 as orion_s3
from orion.exceptions import TransientError
from orion.landing import PROCESSED, REJECTED, decided_key
from orion.settings import OrionSettings
from producers.landing import metrics
from producers.landing.configuration import IngestConfig
from producers.landing.headers import map_columns
from producers.landing.publish import Publisher, PublishError
from producers.landing.readers import FileRejected, ReadOptions, Table, read_table
from producers.landing.readers.table import BadRow
from producers.landing.report import FileReport
from producers.landing.rows import RawRow, RowBuilder, RowError
from producers.landing.zone import LandingObject, LandingZone

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["Ingester", "PassResult"]

log = logging.getLogger("orion.ingest")
_STOP_CHECK_ROWS = 1000


class _Stopped(Exception):
    """A stop was asked for in the middle of a file: it stays in the landing zone."""


@dataclass
class PassResult:
    """What one look at the landing zone did."""

    pending: int = 0
    decided: Counter[str] = field(default_factory=Counter)
    """Files by verdict (processed, rejected)."""
    left: int = 0
    """Files left in the landing zone to try again (S3 or Kafka failed, or a stop)."""
    rows: int = 0
    reports: list[FileReport] = field(default_factory=list)


class Ingester:
    def __init__(
        self,
        settings: OrionSettings,
        config: IngestConfig,
        *,
        s3: S3Client | None = None,
        publisher: Publisher | None = None,
        stop: threading.Event | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        bucket = config.bucket or settings.s3_bucket
        self.zone = LandingZone(s3 or orion_s3.client(settings), bucket)
        self.zone.check()
        self.publisher = publisher or Publisher(settings, config.ack_timeout_s)
        self.stop = stop or threading.Event()
        self._now = now
        self._options = ReadOptions(config.sheet, config.max_expanded_bytes)

    def run_pass(self) -> PassResult:
        """Decide every file now in the landing zone (until a stop)."""
        result = PassResult()
        pending = self.zone.pending()
        result.pending = len(pending)
        metrics.PENDING.set(len(pending))
        held: set[str] = set()  # entities with a file left behind: the rest waits
        kafka_down = False  # Kafka failing fails every file: the pass ends there
        for obj in pending:
            stem = obj.entity.stem if obj.entity else ""
            if self.stop.is_set() or kafka_down or stem in held:
                result.left += 1
                continue
            try:
                report = self.ingest(obj)
            except (TransientError, _Stopped) as e:
                if isinstance(e, _Stopped):
                    log.info("stopped in the middle of a file; it stays", extra={"key": obj.key})
                else:
                    cause = "kafka" if isinstance(e, PublishError) else "s3"
                    kafka_down = kafka_down or cause == "kafka"
                    metrics.FAILURES.labels(cause).inc()
                    log.warning(
                        "file left in the landing zone, to try again",
                        extra={"key": obj.key, "cause": cause, "error": str(e)},
                    )
                held.add(stem)
                result.left += 1
                continue
            result.decided[report.verdict] += 1
            result.rows += report.published
            result.reports.append(report)
        metrics.LAST_PASS.set(time.time())
        return result

    def watch(self, on_pass: Callable[[PassResult], None] | None = None) -> None:
        """Passes until :attr:`stop` is set; ``interval_s`` after a pass that decided nothing."""
        while not self.stop.is_set():
            try:
                result = self.run_pass()
            except TransientError as e:  # the listing itself failed
                metrics.FAILURES.labels("s3").inc()
                log.warning("cannot list the landing zone", extra={"error": str(e)})
                result = PassResult()
            if on_pass is not None:
                on_pass(result)
            if not sum(result.decided.values()):
                self.stop.wait(self.config.interval_s)

    def ingest(self, obj: LandingObject) -> FileReport:
        """Read, publish and decide one file; TransientError or _Stopped leave it where it is."""
        started = time.monotonic()
        report = FileReport(obj.key, obj.size, obj.entity.stem if obj.entity else None)
        if obj.entity is None:
            report.reject(
                "UNKNOWN_ENTITY",
                "not under landing/<domain>/<entity>/ of an entity (e.g. landing/erp/sales/)",
            )
        elif obj.size > self.config.max_file_bytes:
            report.reject(
                "TOO_LARGE",
                f"{obj.size:,} bytes, over the limit of {self.config.max_file_bytes:,} "
                "(ORION_INGEST_MAX_FILE_BYTES): split the export",
            )
        else:
            data = self.zone.read(obj.key)
            metrics.BYTES.labels(obj.entity.stem).inc(len(data))
            report.sha256 = hashlib.sha256(data).hexdigest()
            try:
                table = read_table(obj.key.rsplit("/", 1)[-1], data, self._options)
                report.reader = table.details
                self._publish(obj, table, report)
            except FileRejected as e:
                report.reject(e.reason, e.detail)
        self._decide(obj, report)
        metrics.FILE_SECONDS.observe(time.monotonic() - started)
        return report

    def _publish(self, obj: LandingObject, table: Table, report: FileReport) -> None:
        entity = obj.entity
        assert entity is not None and report.sha256 is not None
        columns = map_columns(entity, table.headers)
        report.unknown_columns = columns.unknown
        report.repeated_columns = columns.repeated
        report.missing_columns = columns.missing
        if columns.unknown:
            metrics.UNKNOWN_COLUMNS.labels(entity.stem).inc(len(columns.unknown))
        if columns.missing:
            raise FileRejected(
                "MISSING_COLUMNS",
                f"no column for required field(s) {', '.join(columns.missing)}; headers found: "
                + ", ".join(str(h) for h in table.headers),
            )
        builder = RowBuilder(entity, columns, report.sha256)
        failure: list[FileRejected] = []
        rows = self._rows(table, builder, report, failure)
        report.published = self.publisher.publish(entity, rows)
        metrics.ROWS.labels(entity.stem, "published").inc(report.published)
        metrics.ROWS.labels(entity.stem, "error").inc(report.row_error_count)
        if failure:  # the reader gave up half way: what it read is published
            raise failure[0]
        if report.row_error_count:
            report.reject(
                "ROW_ERRORS",
                f"{report.row_error_count} of {report.data_rows} data rows cannot become events "
                f"(see row_errors); the other {report.published} were published. Drop the "
                "corrected file again: rows already published are dropped as duplicates",
            )

    def _rows(
        self,
        table: Table,
        builder: RowBuilder,
        report: FileReport,
        failure: list[FileRejected],
    ) -> Iterator[RawRow]:
        keep = self.config.max_row_errors_reported
        index = 0
        try:
            for row in table.rows:
                if index % _STOP_CHECK_ROWS == 0 and index and self.stop.is_set():
                    raise _Stopped
                built = (
                    RowError(row.line, row.reason) if isinstance(row, BadRow)
                    else builder.build(index, row)
                )  # fmt: skip
                index += 1
                if isinstance(built, RowError):
                    report.add_error(built, keep)
                else:
                    yield built
        except FileRejected as e:
            failure.append(e)
        finally:
            report.data_rows = index

    def _decide(self, obj: LandingObject, report: FileReport) -> None:
        if report.reason is None:
            report.verdict = "processed"
        prefix = PROCESSED if report.verdict == "processed" else REJECTED
        report.decided_at = self._now()
        day = report.decided_at.date()
        report.moved_to = decided_key(obj.key, prefix, day)
        self.zone.decide(obj.key, prefix, day, report.to_json())
        metrics.FILES.labels(report.entity or "", report.verdict, report.reason or "").inc()
        log.info(
            f"file {report.verdict}",
            extra={
                "key": obj.key,
                "moved_to": report.moved_to,
                "reason": report.reason,
                "rows": report.data_rows,
                "published": report.published,
                "row_errors": report.row_error_count,
            },
        )

    def close(self) -> None:
        self.publisher.close()
