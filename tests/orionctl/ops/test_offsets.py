"""Lag and rewinds of a real consumer group on the real broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Consumer, Producer

from orion.exceptions import ConfigurationError
from orion.settings import OrionSettings
from orionctl.ops import exporter, offsets

pytestmark = pytest.mark.integration


def _fill(settings: OrionSettings, topic: str) -> None:
    """50 records three hours old, then 50 records of now, on one partition."""
    producer = Producer(settings.kafka_client_config())
    now_ms = int(time.time() * 1000)
    for i in range(100):
        ts = now_ms - 3 * 3600 * 1000 if i < 50 else now_ms
        producer.produce(topic, value=str(i).encode(), timestamp=ts)
    assert producer.flush(30) == 0


def _consume_and_commit(settings: OrionSettings, topic: str, group: str) -> Consumer:
    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen = 0
    deadline = time.monotonic() + 30
    while seen < 100 and time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is not None and msg.error() is None:
            seen += 1
    consumer.commit(asynchronous=False)
    assert seen == 100
    return consumer


def test_lag_plan_and_rewind(settings: OrionSettings, kafka_topic: Callable[..., str]) -> None:
    topic = kafka_topic()
    group = f"test-{uuid.uuid4().hex[:8]}"
    _fill(settings, topic)
    consumer = _consume_and_commit(settings, topic, group)
    bootstrap = settings.kafka_client_config()
    try:
        (row,) = offsets.lag(bootstrap, group)
        assert (row.committed, row.end, row.lag) == (100, 100, 0)
        assert group in offsets.groups(bootstrap)

        back_1h = offsets.ResetTarget(to_datetime=datetime.now(UTC) - timedelta(hours=1))
        (plan,) = offsets.plan_reset(bootstrap, group, [topic], back_1h)
        assert (plan.current, plan.new) == (100, 50)
        (plan4h,) = offsets.plan_reset(
            bootstrap, group, None, offsets.ResetTarget(by_duration=timedelta(hours=4))
        )
        assert plan4h.new == 0
        with pytest.raises(offsets.ActiveGroupError, match="active member"):
            offsets.apply_reset(bootstrap, group, [plan])
        assert offsets.lag(bootstrap, group)[0].committed == 100
    finally:
        consumer.close()

    offsets.apply_reset(bootstrap, group, [plan])
    assert offsets.lag(bootstrap, group)[0].committed == 50
    (to_end,) = offsets.plan_reset(bootstrap, group, None, offsets.ResetTarget(to_offset=10_000))
    assert to_end.new == 100


def test_target_must_be_exactly_one() -> None:
    with pytest.raises(ConfigurationError, match="exactly one"):
        offsets.ResetTarget()
    with pytest.raises(ConfigurationError, match="exactly one"):
        offsets.ResetTarget(to_offset=1, to_earliest=True)


def test_cli_plans_without_changing_and_rejects_bad_input(
    settings: OrionSettings, kafka_topic: Callable[..., str]
) -> None:
    topic = kafka_topic()
    group = f"test-{uuid.uuid4().hex[:8]}"
    _fill(settings, topic)
    _consume_and_commit(settings, topic, group).close()

    def orion(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "orionctl", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=dict(os.environ),
        )

    planned = orion("replay", "kafka", "--group", group, "--to-earliest")
    assert planned.returncode == 0 and "plan only" in planned.stdout
    assert offsets.lag(settings.kafka_client_config(), group)[0].committed == 100
    applied = orion("replay", "kafka", "--group", group, "--to-earliest", "--execute")
    assert applied.returncode == 0, applied.stderr
    assert offsets.lag(settings.kafka_client_config(), group)[0].committed == 0
    bad = orion("replay", "kafka", "--group", group, "--by-duration", "soon")
    assert bad.returncode == 1 and "not a duration" in bad.stderr
    missing = orion("replay", "kafka", "--group", group, "--to-earliest", "--topics", "nope.x")
    assert missing.returncode == 1 and "no such topic(s): nope.x" in missing.stderr
    lag = orion("lag", "--group", group)
    assert lag.returncode == 0 and topic in lag.stdout


def test_table_offsets_of_a_sink_are_shown_and_rewound(
    settings: OrionSettings, kafka_topic: Callable[..., str]
) -> None:
    from orionctl.ops import sink_offsets
    from tests.warehouse_sql.support import fresh_database, migrated

    topic = kafka_topic()
    _fill(settings, topic)
    with fresh_database(settings) as dsn:
        migrated(dsn)
        sink_offsets.write(dsn, "t", {(topic, 0): 100})
        env = {**os.environ, "ORION_DATABASE_URL": dsn}

        def orion(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "orionctl", *args],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env=env,
            )

        lag = orion("lag", "--group", "table:t")
        assert lag.returncode == 0, lag.stderr
        (row,) = [line for line in lag.stdout.splitlines() if "table:t" in line]
        cells = [c.strip() for c in row.strip("│ ").split("│")]
        assert cells == ["table:t", topic, "0", "100", "100", "0"]
        planned = orion(
            "replay",
            "kafka",
            "--group",
            "table:t",
            "--by-duration",
            "1h",
            "--kafka-group",
            f"idle-{uuid.uuid4().hex[:6]}",
        )
        assert planned.returncode == 0, planned.stderr
        assert sink_offsets.read(dsn)["t"] == {(topic, 0): 100}
        applied = orion(
            "replay",
            "kafka",
            "--group",
            "table:t",
            "--by-duration",
            "1h",
            "--kafka-group",
            f"idle-{uuid.uuid4().hex[:6]}",
            "--execute",
        )
        assert applied.returncode == 0, applied.stderr
        assert sink_offsets.read(dsn)["t"] == {(topic, 0): 50}
        missing = orion("replay", "kafka", "--group", "table:nobody", "--to-earliest")
        assert missing.returncode == 1 and "no offsets stored for sink 'nobody'" in missing.stderr


def test_lag_with_a_topic_prefix_lists_only_that_namespaces_groups(
    settings: OrionSettings, kafka_topic: Callable[..., str]
) -> None:
    """``orion lag`` (and the exporter) under ORION_TOPIC_PREFIX show its groups, no others."""
    topic = kafka_topic()
    _fill(settings, topic)
    ours, theirs = f"t{uuid.uuid4().hex[:8]}.", f"t{uuid.uuid4().hex[:8]}."
    for prefix in (ours, theirs):
        _consume_and_commit(settings, topic, prefix + "orion-processor").close()
    kafka = settings.kafka_client_config()
    assert {r.group for r in exporter.all_lag(kafka, None, ours)} == {ours + "orion-processor"}
    both = {r.group for r in exporter.all_lag(kafka, None)}
    assert {ours + "orion-processor", theirs + "orion-processor"} <= both
    shown = subprocess.run(
        [sys.executable, "-m", "orionctl", "lag"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "ORION_TOPIC_PREFIX": ours},
    )
    assert shown.returncode == 0, shown.stderr
    assert ours in shown.stdout and theirs not in shown.stdout
