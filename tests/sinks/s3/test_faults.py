"""S3 going away mid-run: the sink backs off, commits nothing unwritten, and loses nothing."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from prometheus_client import REGISTRY

from orion.settings import OrionSettings
from sinks.base import BatchLimits, RunnerOptions
from sinks.s3 import S3SinkConfig, run_s3_sink
from tests.conftest import unique
from tests.sinks.conftest import (
    assert_exactly_once,
    committed,
    produce_records,
    read_kafka,
    read_objects,
    run_in_thread,
    wait_committed,
)

pytestmark = pytest.mark.integration


class Switch:
    """A TCP proxy to the S3 store that can be cut: new and open connections are reset."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.up = True
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        """Refuse new connections and end the open ones now, both directions.

        ``shutdown`` first: a bare ``close`` does not wake the pipe thread blocked
        in ``recv`` on the same socket, so the peer saw neither FIN nor RST and a
        client could wait on the dead connection for ever (a flaky outage test).
        """
        self.up = False
        with self._lock:
            for c in self._conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    c.close()
            self._conns.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.cut()
        self._server.close()


@pytest.fixture
def s3_switch(settings: OrionSettings) -> Iterator[Switch]:
    url = urlsplit(settings.s3_endpoint)
    switch = Switch((url.hostname or "127.0.0.1", url.port or 80))
    yield switch
    switch.close()


def _put_errors() -> float | None:
    return REGISTRY.get_sample_value("orion_s3_sink_s3_errors_total", {"operation": "put_object"})


def test_s3_outage_pauses_backs_off_and_resumes_without_loss(
    settings: OrionSettings,
    kafka_topic: Callable[..., str],
    s3_bucket: Callable[[], str],
    s3_client: Any,
    s3_switch: Switch,
) -> None:
    topic, bucket = kafka_topic(partitions=2), s3_bucket()
    produce_records(settings, topic, 1000, partitions=2)
    s = settings.model_copy(
        update={"s3_bucket": bucket, "s3_endpoint": f"http://127.0.0.1:{s3_switch.port}"}
    )
    config = S3SinkConfig(
        topics=(topic,),
        group=unique("g-"),
        limits=BatchLimits(max_records=100, max_age_s=0.3),
        retry_after_s=0.5,
    )
    errors_before = _put_errors() or 0.0
    options = RunnerOptions(poll_timeout_s=0.1)
    stop, holder = run_in_thread(lambda st: run_s3_sink(s, config, st, runner_options=options))
    try:
        deadline = time.monotonic() + 60
        while sum(max(o, 0) for o in committed(s, config.group, topic, 2).values()) == 0:
            assert time.monotonic() < deadline and holder.thread.is_alive(), holder.error
            time.sleep(0.05)
        s3_switch.cut()
        frozen = committed(s, config.group, topic, 2)
        # Records to flush while S3 is down (the first 1000 may all be archived
        # already: seen in CI, backoffs == 0), and S3 stays down until the sink has
        # given up retrying a batch and paused the partition.
        produce_records(settings, topic, 500, partitions=2)
        deadline = time.monotonic() + 90
        while not REGISTRY.get_sample_value("orion_s3_sink_backoffs_total", {"topic": topic}):
            assert time.monotonic() < deadline, "the sink never backed off"
            time.sleep(0.1)
        assert committed(s, config.group, topic, 2) == frozen, "committed while S3 was down"
        assert holder.thread.is_alive()
        s3_switch.up = True
        wait_committed(s, config.group, topic, alive=holder.thread.is_alive)
    finally:
        stop.set()
        holder.thread.join(60)
    assert holder.error is None, holder.error
    assert holder.result.backoffs > 0
    assert (_put_errors() or 0.0) > errors_before
    assert_exactly_once(
        read_objects(s3_client, bucket, f"bronze/{topic}/").records, read_kafka(settings, topic)
    )
