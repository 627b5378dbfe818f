"""The ingester against the real S3 and Kafka: broken files, a crash half way, a file twice.

Every check reads back what the services hold: the objects left in the
bucket, the reports beside them, and the raw events on the topic, decoded,
whose ids must be exactly the ids the files' content gives.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException
from openpyxl import Workbook

from orion.landing import row_event_id
from orion.registry import Registry
from orion.serde import AvroDecoder
from orion.settings import OrionSettings
from orionctl.ops.ledger_score import read_topics
from producers.landing.configuration import IngestConfig
from producers.landing.ingester import Ingester
from tests.orion_process import OrionProcess
from tests.sinks.warehouse.kafka_support import end_offsets

pytestmark = pytest.mark.integration

T0 = "2025-03-01T08:15:00.000Z"


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    out: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.extend(o["Key"] for o in page.get("Contents", []))
    return sorted(out)


def raw_events(settings: OrionSettings, prefix: str, stem: str) -> list[dict[str, Any]]:
    records = read_topics(settings, [f"{prefix}raw.{stem}"])
    with Registry(settings.schema_registry_url) as registry:
        decode = AvroDecoder(registry)
        return [decode(value or b"")[1] for _, _, _, value, _ in records]


def ids_of(data: bytes, rows: int) -> set[str]:
    sha = hashlib.sha256(data).hexdigest()
    return {row_event_id(sha, i) for i in range(rows)}


def interactions_csv(rows: int, notes_bytes: int = 10) -> bytes:
    lines = ["Interaction ID,customer_id,dealer_id,interaction_date,notes,event_time,event_type"]
    note = "n" * notes_bytes
    for i in range(rows):
        lines.append(f"INT-{i:07d},CUS-{i % 97:05d},DLR-0001,2025-03-01,{note},{T0},x.logged")
    return ("\r\n".join(lines) + "\r\n").encode()


def test_broken_files_are_rejected_with_reports_and_never_block_the_files_behind(
    settings: OrionSettings, topic_namespace: str, s3_bucket: Callable[[], str], s3_client: Any
) -> None:
    bucket = s3_bucket()
    book = Workbook()
    book.active.append(["interaction_id", "event_time"])  # type: ignore[union-attr]
    book.active.append(["INT-1", T0])  # type: ignore[union-attr]
    xlsx = io.BytesIO()
    book.save(xlsx)
    big = interactions_csv(5_000, notes_bytes=10_000)  # 50 MB: large rows, not many
    good_rows = [
        {"interaction_id": f"INT-G{i}", "customer_id": "CUS-1", "notes": "ok", "event_time": T0}
        for i in range(3)
    ]
    good = b"".join(json.dumps(r).encode() + b"\n" for r in good_rows)
    files = {
        "01-truncated.xlsx": xlsx.getvalue()[:900],
        "02-junk.csv": bytes(range(256)) * 64,
        "03-no-id.csv": b"customer_id,event_time\nCUS-1," + T0.encode() + b"\n",
        "04-empty.csv": b"",
        "05-big.csv": big,
        "06-good.jsonl": good,
    }
    for name, body in files.items():
        s3_client.put_object(Bucket=bucket, Key=f"landing/crm/interactions/{name}", Body=body)
    s3_client.put_object(Bucket=bucket, Key="landing/crm/nothing/x.csv", Body=b"a\n1\n")

    ns = settings.model_copy(update={"topic_prefix": topic_namespace})
    ingester = Ingester(ns, IngestConfig(bucket=bucket))
    try:
        result = ingester.run_pass()
    finally:
        ingester.close()

    assert keys(s3_client, bucket, "landing/") == []
    verdicts = {r.key.rsplit("/", 1)[-1]: (r.verdict, r.reason) for r in result.reports}
    assert verdicts == {
        "01-truncated.xlsx": ("rejected", "MALFORMED_XLSX"),
        "02-junk.csv": ("rejected", "BINARY_CONTENT"),
        "03-no-id.csv": ("rejected", "MISSING_COLUMNS"),
        "04-empty.csv": ("rejected", "EMPTY_FILE"),
        "05-big.csv": ("processed", None),
        "06-good.jsonl": ("processed", None),
        "x.csv": ("rejected", "UNKNOWN_ENTITY"),
    }
    decided = keys(s3_client, bucket)
    for report in result.reports:
        assert report.moved_to in decided
        stored = json.loads(
            s3_client.get_object(Bucket=bucket, Key=f"{report.moved_to}.report.json")["Body"].read()
        )
        assert (stored["verdict"], stored["reason"]) == (report.verdict, report.reason)
    missing = next(r for r in result.reports if r.reason == "MISSING_COLUMNS")
    assert "interaction_id" in (missing.detail or "")

    events = raw_events(settings, topic_namespace, "crm.interactions")
    assert Counter(e["event_id"] for e in events) == Counter(ids_of(big, 5_000) | ids_of(good, 3))
    got = {e["interaction_id"]: e for e in events}
    assert got["INT-0004999"]["notes"] == "n" * 10_000
    assert got["INT-G2"]["customer_id"] == "CUS-1"
    assert got["INT-G2"]["source_system"] == "CRM"


def test_a_crash_half_way_and_the_same_file_again_give_no_new_event_ids(
    settings: OrionSettings,
    topic_namespace: str,
    s3_bucket: Callable[[], str],
    s3_client: Any,
    tmp_path: Path,
) -> None:
    bucket = s3_bucket()
    rows = 50_000
    data = interactions_csv(rows)
    key = "landing/crm/interactions/export-1.csv"
    s3_client.put_object(Bucket=bucket, Key=key, Body=data)
    env = {"ORION_TOPIC_PREFIX": topic_namespace, "ORION_INGEST_BUCKET": bucket,
           "ORION_INGEST_INTERVAL_S": "0.5"}  # fmt: skip
    topic = f"{topic_namespace}raw.crm.interactions"

    def on_topic() -> int:
        try:
            return sum(end_offsets(settings, [topic]).values())
        except KafkaException:  # a topic this new may have no leader yet
            return 0

    first = OrionProcess(["ingest", "files", "--watch"], tmp_path / "ingest.log", env)
    deadline = time.monotonic() + 120
    while on_topic() < rows // 10:
        assert first.alive(), first.output()
        assert time.monotonic() < deadline, "the ingester published nothing in 120 s"
        time.sleep(0.1)
    first.kill()
    half = on_topic()
    assert 0 < half < rows, f"killed after {half} of {rows} rows: not half way"
    assert keys(s3_client, bucket, "landing/") == [key]  # not decided: it stays

    second = OrionProcess(["ingest", "files", "--watch"], tmp_path / "ingest.log", env)
    try:
        wait_for(lambda: keys(s3_client, bucket, "landing/") == [], second, "first decision")
        s3_client.put_object(Bucket=bucket, Key=key, Body=data)  # the same file again
        wait_for(lambda: keys(s3_client, bucket, "landing/") == [], second, "second decision")
    finally:
        assert second.terminate() == 0, second.output()

    events = raw_events(settings, topic_namespace, "crm.interactions")
    ids = Counter(e["event_id"] for e in events)
    assert set(ids) == ids_of(data, rows)  # every row, and no id the file does not give
    # what the killed run sent, then the whole file twice; the processors drop the copies
    assert len(events) == half + 2 * rows
    assert [k for k in keys(s3_client, bucket) if not k.endswith(".report.json")] == [
        key.replace("landing/", f"processed/{time.strftime('%Y-%m-%d', time.gmtime())}/")
    ]


def wait_for(
    done: Callable[[], bool], proc: OrionProcess, what: str, timeout_s: float = 120
) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert proc.alive(), proc.output()
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:g} s\n{proc.output()}"
        time.sleep(0.25)
