"""An operator's replay of the warehouse loader through `orion replay kafka` changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
from confluent_kafka.admin import AdminClient

from orion.settings import OrionSettings
from orionctl.ops import sink_offsets
from sinks.warehouse.checksum import table_checksums
from tests.sinks.warehouse.kafka_support import (
    LoaderProcess,
    create_clean_topics,
    end_offsets,
    publish,
)
from tests.warehouse_sql.support import clean_events, fresh_database, migrated

pytestmark = pytest.mark.integration


def _load_everything(
    dsn: str, env: dict[str, str], ends: dict[tuple[str, int], int], log: Path
) -> None:
    # No static membership: a static member stays in the group for its session timeout after
    # it stops, and the rewind would (rightly) be refused until then.
    loader = LoaderProcess(log, env, "--max-wait", "0.3")
    deadline = time.monotonic() + 120
    while sink_offsets.read(dsn).get("warehouse") != ends:
        assert loader.alive(), loader.output()[-2000:]
        assert time.monotonic() < deadline, "the loader did not catch up"
        time.sleep(0.25)
    assert loader.terminate() == 0, loader.output()[-2000:]


def _checksums(dsn: str) -> dict[str, tuple[int, str]]:
    conn = psycopg2.connect(dsn)
    try:
        return table_checksums(conn)
    finally:
        conn.close()


def test_replaying_a_day_into_the_loader_leaves_every_table_unchanged(
    settings: OrionSettings, tmp_path: Path
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    topics = create_clean_topics(settings, prefix)
    try:
        publish(settings, prefix, clean_events(21, 5000))
        ends = end_offsets(settings, topics)
        with fresh_database(settings) as dsn:
            migrated(dsn)
            env = {"ORION_DATABASE_URL": dsn, "ORION_TOPIC_PREFIX": prefix}
            _load_everything(dsn, env, ends, tmp_path / "first.log")
            before = _checksums(dsn)
            assert sum(rows for rows, _ in before.values()) > 1000

            replay = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "orionctl",
                    "replay",
                    "kafka",
                    "--group",
                    "table:warehouse",
                    "--by-duration",
                    "1d",
                    "--execute",
                    "--kafka-group",
                    prefix + "orion-warehouse-sink",
                ],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert replay.returncode == 0, replay.stderr
            rewound = sink_offsets.read(dsn)["warehouse"]
            assert rewound == {tp: 0 for tp in ends}  # everything was published today

            _load_everything(dsn, env, ends, tmp_path / "replay.log")
            assert _checksums(dsn) == before
    finally:
        admin = AdminClient(settings.kafka_client_config())
        for f in admin.delete_topics(topics).values():
            f.result(timeout=60)
