"""What a pipeline run must add up to, each check read back from the real services.

The chaos drill runs all of them after its faults; each returns a
:class:`Check` (a name, a verdict and what was found) instead of raising, so
the drill prints every verdict and a failure names exactly what disagreed.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg2

from orion import s3 as orion_s3
from orion.catalog import entities
from orion.settings import OrionSettings
from orionctl.ops import offsets
from orionctl.ops.ledger_score import ReadRecord, score
from sinks.s3.format import AvroContainerFormat
from sinks.warehouse.checksum import table_checksums

__all__ = [
    "Check",
    "alerts_check",
    "bronze_check",
    "ledger_check",
    "silver_check",
    "warehouse_check",
]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def ledger_check(settings: OrionSettings, prefix: str, ledger: Path) -> Check:
    """The clean and DLQ topics (read_committed) hold exactly what the ledger says."""
    s = score(settings, prefix, ledger, timeout_s=600)
    clean = sum(s.clean_by_topic.values())
    if s.clean_by_topic != s.expected_by_topic:
        s.add(f"clean per topic {dict(s.clean_by_topic)} != ledger {dict(s.expected_by_topic)}")
    detail = f"{clean} clean records, {s.dlq} dead letters"
    if s.problems:
        return Check("topics = ledger", False, detail + "; " + "; ".join(s.problems[:10]))
    return Check("topics = ledger", True, detail + ", every event where the ledger says")


Offsets = Counter[tuple[str, int, int]]


def _exactly_once(
    stored: Offsets, want: Iterable[tuple[str, int, int]]
) -> tuple[Offsets, Offsets, int]:
    """(missing, unexpected, stored more than once) of ``stored`` against ``want``."""
    expected = Counter(want)
    missing = expected - stored
    extra = stored - expected
    doubled = sum(n - 1 for n in stored.values() if n > 1)
    return missing, extra, doubled


def _verdict(name: str, stored: Offsets, want: list[tuple[str, int, int]]) -> Check:
    missing, extra, doubled = _exactly_once(stored, want)
    if not missing and not extra:
        return Check(name, True, f"{len(want)} offsets, each exactly once")
    sample = ", ".join(f"{t}/{p}@{o}" for t, p, o in sorted(missing)[:5])
    return Check(
        name,
        False,
        f"{sum(missing.values())} of {len(want)} offsets missing ({sample}), "
        f"{sum(extra.values())} unexpected, {doubled} stored more than once",
    )


def bronze_check(settings: OrionSettings, prefix: str, partitions: int) -> Check:
    """Every raw offset of the run in the bronze archive exactly once."""
    s3 = orion_s3.client(settings)
    fmt = AvroContainerFormat()
    stored: Offsets = Counter()
    for e in entities():
        folder = f"bronze/{prefix}{e.topic('raw')}/"
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=settings.s3_bucket, Prefix=folder
        ):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=settings.s3_bucket, Key=obj["Key"])["Body"].read()
                stored.update((r.topic, r.partition, r.offset) for r in fmt.decode(body))
    raw = [(prefix + e.topic("raw"), p) for e in entities() for p in range(partitions)]
    kafka = settings.kafka_client_config()
    low = offsets.list_offsets(kafka, raw, offsets.EARLIEST)
    high = offsets.list_offsets(kafka, raw, offsets.LATEST)
    # Raw topics are written by idempotent, non-transactional producers: no gaps.
    want = [(t, p, o) for (t, p) in raw for o in range(low[(t, p)], high[(t, p)])]
    return _verdict("bronze = raw offsets", stored, want)


def silver_check(
    settings: OrionSettings, prefix: str, silver_prefix: str, clean: list[ReadRecord]
) -> Check:
    """Every committed clean record of the run in the silver Parquet exactly once."""
    import pyarrow.parquet as pq  # the silver sink's dependency; only this check reads Parquet

    s3 = orion_s3.client(settings)
    stored: Offsets = Counter()
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=settings.s3_bucket, Prefix=silver_prefix.strip("/") + "/"
    ):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith(".parquet"):
                continue
            body = s3.get_object(Bucket=settings.s3_bucket, Key=obj["Key"])["Body"].read()
            table = pq.read_table(
                io.BytesIO(body), columns=["kafka_topic", "kafka_partition", "kafka_offset"]
            ).to_pydict()
            stored.update(
                zip(table["kafka_topic"], table["kafka_partition"], table["kafka_offset"],
                    strict=True)
            )  # fmt: skip
    want = [(r.topic, r.partition, r.offset) for r in clean if r.value is not None]
    return _verdict("silver = clean offsets", stored, want)


def warehouse_check(dsn: str, reference_dsn: str) -> Check:
    """Every warehouse table's content checksum equals the fault-free reference run's."""
    sums: list[dict[str, tuple[int, str]]] = []
    for d in (dsn, reference_dsn):
        conn = psycopg2.connect(d)
        try:
            sums.append(table_checksums(conn, lineage=False))
        finally:
            conn.close()
    got, want = sums
    rows = sum(n for n, _ in got.values())
    differ = sorted(t for t in set(got) | set(want) if got.get(t) != want.get(t))
    if differ:
        detail = ", ".join(f"{t} {got.get(t, (0,))[0]} vs {want.get(t, (0,))[0]} rows"
                           for t in differ)  # fmt: skip
        return Check("warehouse = fault-free run", False, f"tables differ: {detail}")
    return Check(
        "warehouse = fault-free run", True, f"{len(got)} tables, {rows} rows, checksums equal"
    )


def firing_alerts(prometheus_url: str) -> list[dict[str, Any]]:
    body = httpx.get(prometheus_url.rstrip("/") + "/api/v1/alerts", timeout=10).json()
    return [a for a in body["data"]["alerts"] if a["state"] == "firing"]


def alerts_check(prometheus_url: str, ours: Callable[[dict[str, str]], bool]) -> Check:
    """No alert about this run is firing (``ours`` tells from an alert's labels)."""
    firing = firing_alerts(prometheus_url)
    mine = [a for a in firing if ours(a["labels"])]
    others = len(firing) - len(mine)
    note = f" ({others} firing about other runs or unattributable)" if others else ""
    if mine:
        names = ", ".join(sorted({a["labels"]["alertname"] for a in mine}))
        return Check("no alert firing", False, f"{len(mine)} firing: {names}{note}")
    return Check("no alert firing", True, f"none about this run{note}")
