"""Session fixtures: the real local stack and factories of isolated resources.

The stack is brought up once per session (or a running one is reused) and left
running for the next run; `orion stack down` stops it. Every factory gives a
test its own topic, schema or bucket with a unique name, and removes it after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import boto3
import psycopg2
import pytest
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from psycopg2 import sql

from orion.settings import OrionSettings, load_settings
from orionctl.stack import manager
from orionctl.stack.config import StackConfig, load_stack_config


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def stack_config() -> StackConfig:
    return load_stack_config()


DOCKER = os.environ.get("ORION_TEST_BACKEND", "local") == "docker"


@pytest.fixture(scope="session")
def stack(stack_config: StackConfig) -> StackConfig:
    """The local stack, healthy (started if it was not)."""
    if DOCKER:
        pytest.skip("needs the local stack; ORION_TEST_BACKEND=docker runs containers instead")
    manager.up(stack_config)
    return stack_config


@pytest.fixture(scope="session")
def settings(stack_config: StackConfig) -> Iterator[OrionSettings]:
    """Endpoints of the real services: the local stack, or containers where Docker runs."""
    if DOCKER:
        from tests.docker_stack import docker_services

        with docker_services() as env:
            os.environ.update(env)
            created = load_settings(stack_config.dir)
            boto3.client(
                "s3",
                endpoint_url=created.s3_endpoint,
                aws_access_key_id=created.s3_access_key,
                aws_secret_access_key=created.s3_secret_key.get_secret_value(),
                region_name=created.s3_region,
            ).create_bucket(Bucket=created.s3_bucket)
            yield created
        return
    manager.up(stack_config)
    yield load_settings(stack_config.dir)


@pytest.fixture(scope="session")
def kafka_admin(settings: OrionSettings) -> AdminClient:
    return AdminClient(settings.kafka_client_config())


@pytest.fixture
def kafka_topic(kafka_admin: AdminClient) -> Iterator[Callable[..., str]]:
    """Factory: ``kafka_topic(partitions=3)`` creates a topic unique to this test."""
    created: list[str] = []

    def make(partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = unique("test.")
        # Test records are often dated weeks ago (tests/sinks/conftest.py BASE_TS); under the
        # broker's 7-day retention the log cleaner deleted them mid-test whenever its 5-minute
        # check came round, which read back as a random "nothing committed / nothing read".
        topic_config = {"retention.ms": "-1", **(config or {})}
        futures = kafka_admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1, config=topic_config)]
        )
        futures[name].result(timeout=30)
        created.append(name)
        return name

    yield make
    if created:
        for f in kafka_admin.delete_topics(created).values():
            f.result(timeout=30)


@pytest.fixture
def pg_schema(settings: OrionSettings) -> Iterator[Callable[[], str]]:
    """Factory: a fresh schema in the warehouse database, dropped after the test."""
    created: list[str] = []

    def make() -> str:
        name = unique("t_")
        with psycopg2.connect(settings.database_dsn) as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        created.append(name)
        return name

    yield make
    if created:
        conn = psycopg2.connect(settings.database_dsn)
        with conn, conn.cursor() as cur:
            for name in created:
                cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
        conn.close()


@pytest.fixture(scope="session")
def s3_client(settings: OrionSettings):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
    )


@pytest.fixture
def s3_bucket(s3_client) -> Iterator[Callable[[], str]]:  # type: ignore[no-untyped-def]
    """Factory: an empty bucket unique to this test, emptied and deleted after."""
    created: list[str] = []

    def make() -> str:
        name = unique("test-")
        s3_client.create_bucket(Bucket=name)
        created.append(name)
        return name

    yield make
    for name in created:
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                s3_client.delete_object(Bucket=name, Key=obj["Key"])
        s3_client.delete_bucket(Bucket=name)


@pytest.fixture
def topic_namespace(settings: OrionSettings, kafka_admin: AdminClient) -> Iterator[str]:
    """A topic prefix of this test's own, with every pipeline topic created under it (3 partitions).

    Run ``orion`` commands with ``ORION_TOPIC_PREFIX`` set to it, so tests never see each
    other's events on the shared broker. Topics are deleted afterwards.
    """
    from orion.topics import create_topics, topic_specs

    prefix = unique("t") + "."
    specs = topic_specs(partitions=3, prefix=prefix)
    create_topics(settings.kafka_client_config(), specs)
    yield prefix
    if os.environ.get("ORION_TEST_KEEP_TOPICS") == "1":
        print(f"kept topics under {prefix}")
        return
    for f in kafka_admin.delete_topics([s.name for s in specs]).values():
        f.result(timeout=60)
