"""The database going away mid-run: the loader backs off, stays up, and loads everything once.

The loader reaches PostgreSQL through a TCP proxy that the test cuts (open and
new connections are reset) while more records arrive, then restores. The
result is compared with a second loader that never saw an outage.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg2
import pytest
from confluent_kafka.admin import AdminClient
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url

import tests.sinks.s3.test_faults as faults
from orion.settings import OrionSettings
from sinks.warehouse.checksum import table_checksums
from sinks.warehouse.configuration import WarehouseSinkConfig
from tests.sinks.warehouse.kafka_support import (
    create_clean_topics,
    end_offsets,
    loader_thread,
    publish,
)
from tests.warehouse_sql.support import clean_events, fresh_database, migrated

pytestmark = pytest.mark.integration


def stored_offsets(dsn: str) -> dict[tuple[str, int], int]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT topic, partition, next_offset FROM metadata.sink_offsets")
            return {(t, p): o for t, p, o in cur.fetchall()}
    finally:
        conn.close()


def connection_errors() -> float:
    return REGISTRY.get_sample_value("orion_warehouse_errors_total", {"kind": "connection"}) or 0.0


def start(
    settings: OrionSettings, dsn: str, prefix: str, topics: list[str]
) -> tuple[threading.Event, threading.Thread, list[BaseException]]:
    config = WarehouseSinkConfig(
        topics=tuple(topics),
        topic_prefix=prefix,
        group=f"g-{uuid.uuid4().hex[:8]}",
        max_records=300,
        max_wait_s=0.3,
        retry_after_s=0.2,
        max_retry_after_s=1.0,
    )
    return loader_thread(settings, dsn, config)


def wait_for(what: str, done: Any, alive: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert alive(), f"the loader stopped before {what}"
        assert time.monotonic() < deadline, f"not {what} in {timeout}s"
        time.sleep(0.1)


def test_database_outage_pauses_backs_off_and_loads_everything_once(
    settings: OrionSettings,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    topics = create_clean_topics(settings, prefix)
    events = clean_events(31, 6000)
    half = len(events) // 2
    try:
        with fresh_database(settings) as dsn, fresh_database(settings) as reference:
            migrated(dsn)
            migrated(reference)
            url = make_url(dsn)
            switch = faults.Switch((url.host or "127.0.0.1", url.port or 5432))
            proxied = url.set(host="127.0.0.1", port=switch.port)
            try:
                publish(settings, prefix, events[:half])
                stop, thread, errors = start(
                    settings, proxied.render_as_string(hide_password=False), prefix, topics
                )
                wait_for("loading", lambda: stored_offsets(dsn), thread.is_alive)
                before = connection_errors()
                switch.cut()
                publish(settings, prefix, events[half:])
                ends = end_offsets(settings, topics)
                # Two failed batches at least: it backed off and tried again, and is still up.
                wait_for("backing off", lambda: connection_errors() >= before + 2, thread.is_alive)
                assert stored_offsets(dsn) != ends
                switch.up = True
                wait_for("loaded", lambda: stored_offsets(dsn) == ends, thread.is_alive)
                stop.set()
                thread.join(60)
                assert not errors, errors
            finally:
                switch.close()
            stop, thread, errors = start(settings, reference, prefix, topics)
            wait_for("loaded", lambda: stored_offsets(reference) == ends, thread.is_alive)
            stop.set()
            thread.join(60)
            assert not errors, errors
            with psycopg2.connect(dsn) as a, psycopg2.connect(reference) as b:
                assert table_checksums(a, canonical=True) == table_checksums(b, canonical=True)
            a.close()
            b.close()
    finally:
        admin = AdminClient(settings.kafka_client_config())
        for f in admin.delete_topics(topics).values():
            f.result(timeout=60)
