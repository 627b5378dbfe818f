"""``orion sink s3`` through its entry point: SIGKILL-restarts, two workers, SIGTERM, bad config."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from orion.settings import OrionSettings
from tests.conftest import unique
from tests.sinks.conftest import (
    SinkProcess,
    assert_exactly_once,
    committed,
    end_offsets,
    orion_cli,
    produce_records,
    read_kafka,
    read_objects,
    wait_committed,
)

pytestmark = pytest.mark.integration
SINK_ARGS = ("--max-records", "500", "--max-age", "1")


def _archived(output: str) -> int:
    m = re.search(r"archived (\d+) records", output)
    assert m, output[-2000:]
    return int(m[1])


def test_sigkill_five_times_then_sigterm_loses_and_doubles_nothing(
    settings: OrionSettings,
    kafka_topic: Callable[..., str],
    s3_bucket: Callable[[], str],
    s3_client: Any,
    sink_processes: Callable[..., SinkProcess],
) -> None:
    topic, bucket, group = kafka_topic(partitions=4), s3_bucket(), unique("g-")
    rng = random.Random(5)  # noqa: S311 - kill timing, not cryptography
    killed_mid_run = 0
    for _ in range(5):
        # 8,000 new records per round, 10,000 before the last run: 50,000 in all.
        produce_records(settings, topic, 8000, partitions=4)
        total = sum(end_offsets(settings, topic).values())
        before = sum(max(o, 0) for o in committed(settings, group, topic, 4).values())
        # The same static member id, as a restarted pod would have: the group hands the
        # partitions straight back instead of waiting for the killed member to time out.
        sink = sink_processes(topic, group, bucket, *SINK_ARGS, "--instance-id", "worker-1")
        deadline = time.monotonic() + 60
        while sum(max(o, 0) for o in committed(settings, group, topic, 4).values()) == before:
            assert sink.alive() and time.monotonic() < deadline, sink.output()[-3000:]
            time.sleep(0.05)
        time.sleep(rng.uniform(0, 0.05))  # soon after the first commit: mid-run
        sink.kill()
        after = sum(max(o, 0) for o in committed(settings, group, topic, 4).values())
        killed_mid_run += after < total
    assert killed_mid_run >= 3, "the sink finished before most kills: the test proves little"
    produce_records(settings, topic, 10_000, partitions=4)
    sink = sink_processes(topic, group, bucket, *SINK_ARGS, "--instance-id", "worker-1")
    wait_committed(settings, group, topic, timeout=120, alive=sink.alive)
    assert sink.terminate() == 0, sink.output()[-3000:]
    assert sum(end_offsets(settings, topic).values()) == 50_000

    bronze = read_objects(s3_client, bucket, f"bronze/{topic}/")
    assert_exactly_once(bronze.records, read_kafka(settings, topic))


def test_two_workers_in_one_group_share_the_partitions_exactly_once(
    settings: OrionSettings,
    kafka_topic: Callable[..., str],
    s3_bucket: Callable[[], str],
    s3_client: Any,
    sink_processes: Callable[..., SinkProcess],
) -> None:
    topic, bucket, group = kafka_topic(partitions=4), s3_bucket(), unique("g-")
    produce_records(settings, topic, 4000, partitions=4)
    first = sink_processes(topic, group, bucket, *SINK_ARGS)
    deadline = time.monotonic() + 60
    while sum(max(o, 0) for o in committed(settings, group, topic, 4).values()) == 0:
        assert first.alive() and time.monotonic() < deadline, first.output()[-3000:]
        time.sleep(0.1)
    second = sink_processes(topic, group, bucket, *SINK_ARGS)
    time.sleep(6)  # the group rebalances onto both workers
    produce_records(settings, topic, 4000, partitions=4)
    wait_committed(
        settings, group, topic, timeout=120, alive=lambda: first.alive() and second.alive()
    )
    assert first.terminate() == 0, first.output()[-3000:]
    assert second.terminate() == 0, second.output()[-3000:]
    assert _archived(first.output()) > 0 and _archived(second.output()) > 0

    bronze = read_objects(s3_client, bucket, f"bronze/{topic}/")
    assert_exactly_once(bronze.records, read_kafka(settings, topic))


def test_missing_bucket_is_a_clear_error_without_traceback(settings: OrionSettings) -> None:
    result = orion_cli("sink", "s3", "--topics", "raw.none", bucket=unique("missing-"))
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "fix:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_secret_key_is_named_as_refused_credentials(settings: OrionSettings) -> None:
    wrong = "not-the-secret-" + unique("")
    result = orion_cli(
        "sink", "s3", "--topics", "raw.none", bucket=settings.s3_bucket,
        env={"ORION_S3_SECRET_KEY": wrong},
    )  # fmt: skip
    assert result.returncode == 1
    assert "S3 refused the credentials" in result.stderr, result.stderr
    assert f"ORION_S3_ACCESS_KEY={settings.s3_access_key}" in result.stderr
    assert "ORION_S3_SECRET_KEY" in result.stderr and "SignatureDoesNotMatch" in result.stderr
    assert "does not exist" not in result.stderr and "Traceback" not in result.stderr
    assert wrong not in result.stderr + result.stdout


def test_an_unknown_access_key_is_named_as_refused_credentials(settings: OrionSettings) -> None:
    result = orion_cli(
        "sink", "s3", "--topics", "raw.none", bucket=settings.s3_bucket,
        env={"ORION_S3_ACCESS_KEY": "nobody-here"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "S3 refused the credentials (ORION_S3_ACCESS_KEY=nobody-here" in result.stderr


def test_bad_age_and_dates_are_usage_errors(settings: OrionSettings) -> None:
    bucket = settings.s3_bucket
    result = orion_cli("archive", "--older-than", "soon", bucket=bucket)
    assert result.returncode == 1 and "30d" in result.stderr, result.stderr
    result = orion_cli(
        "replay",
        "archive",
        "--topic",
        "t",
        "--from",
        "2025-02-01",
        "--to",
        "2025-01-01",
        bucket=bucket,
    )
    assert result.returncode == 1 and "before --from" in result.stderr, result.stderr
