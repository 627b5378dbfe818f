"""The backing services in containers, for machines with a Docker engine.

Selected with ``ORION_TEST_BACKEND=docker``; the default backend is the local
no-Docker stack (``orion stack up``). testcontainers starts Kafka (Confluent
Platform 8.0 = Apache Kafka 4.0, KRaft), PostgreSQL 15, Apicurio Registry and
versitygw, and the fixtures read the same ``ORION_*`` variables from them.
Prometheus is not started here: tests that need it are skipped under this
backend. Not exercised on the project's own machines, which have no Docker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
from testcontainers.core.container import DockerContainer
from testcontainers.kafka import KafkaContainer
from testcontainers.postgres import PostgresContainer

S3_KEY, S3_SECRET = "orion", "orion-local-secret"


def _wait_http(url: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer in {timeout_s:.0f}s")


@contextmanager
def docker_services() -> Iterator[dict[str, str]]:
    """Start the containers; yield the ORION_* endpoint variables; stop them after."""
    with ExitStack() as stack:
        kafka = stack.enter_context(KafkaContainer("confluentinc/cp-kafka:8.0.0").with_kraft())
        pg = stack.enter_context(
            PostgresContainer(
                "postgres:15", username="orion", password="orion", dbname="warehouse", driver=None
            )
        )
        registry = stack.enter_context(
            DockerContainer("apicurio/apicurio-registry:3.0.9").with_exposed_ports(8080)
        )
        s3 = stack.enter_context(
            DockerContainer("versity/versitygw:v1.7.0")
            .with_env("ROOT_ACCESS_KEY", S3_KEY)
            .with_env("ROOT_SECRET_KEY", S3_SECRET)
            .with_command("--port :7070 posix /tmp")
            .with_exposed_ports(7070)
        )
        registry_url = (
            f"http://{registry.get_container_host_ip()}:"
            f"{registry.get_exposed_port(8080)}/apis/ccompat/v7"
        )
        s3_url = f"http://{s3.get_container_host_ip()}:{s3.get_exposed_port(7070)}"
        _wait_http(registry_url + "/subjects")
        _wait_http(s3_url)
        yield {
            "ORION_KAFKA_BOOTSTRAP": kafka.get_bootstrap_server(),
            "ORION_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",  # the container's listener
            "ORION_SCHEMA_REGISTRY_URL": registry_url,
            "ORION_DATABASE_URL": pg.get_connection_url(),
            "ORION_S3_ENDPOINT": s3_url,
            "ORION_S3_ACCESS_KEY": S3_KEY,
            "ORION_S3_SECRET_KEY": S3_SECRET,
            "ORION_S3_BUCKET": "orion-bronze",
            "ORION_PROMETHEUS_URL": "http://127.0.0.1:1",
        }
