"""One smoke test per service: write real data, read it back."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.exceptions
import httpx
import psycopg2
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from prometheus_client import CollectorRegistry, Counter, start_http_server
from psycopg2 import sql

from orion.settings import OrionSettings
from orionctl.stack.config import StackConfig

pytestmark = pytest.mark.integration

SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Smoke",
        "namespace": "orion.test",
        "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "double"}],
    }
)


def test_avro_record_round_trips_through_kafka_and_the_registry(
    settings: OrionSettings, kafka_topic: Callable[..., str]
) -> None:
    topic = kafka_topic()
    with SchemaRegistryClient({"url": settings.schema_registry_url}) as registry:
        _round_trip(registry, settings, topic)


def _round_trip(registry: SchemaRegistryClient, settings: OrionSettings, topic: str) -> None:
    serializer = AvroSerializer(registry, SCHEMA)
    record_id = str(uuid.uuid4())
    record = {"id": record_id, "amount": 1234.5}
    value = serializer(record, SerializationContext(topic, MessageField.VALUE))
    assert value[0] == 0  # Confluent wire format: magic byte, then a 4-byte schema id

    producer = Producer({**settings.kafka_client_config(), "enable.idempotence": True})
    producer.produce(topic, key=record_id.encode(), value=value)
    assert producer.flush(30) == 0

    consumer = Consumer(
        {
            **settings.kafka_client_config(),
            "group.id": topic,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    try:
        msg = None
        deadline = time.monotonic() + 30
        while msg is None and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
        assert msg is not None and msg.error() is None
    finally:
        consumer.close()
    received = msg.value()
    assert received is not None
    decoded = AvroDeserializer(registry)(received, SerializationContext(topic, MessageField.VALUE))
    assert decoded == record
    schema_id = int.from_bytes(received[1:5], "big")
    schema_str = registry.get_schema(schema_id).schema_str
    assert schema_str is not None
    assert json.loads(schema_str)["name"] == "Smoke"
    # Look the subject up by name: listing every subject is paged on a busy registry.
    assert registry.get_latest_version(f"{topic}-value").schema_id == schema_id
    registry.delete_subject(f"{topic}-value", permanent=False)


def test_row_round_trips_through_postgres(
    settings: OrionSettings, pg_schema: Callable[[], str]
) -> None:
    schema = pg_schema()
    table = sql.Identifier(schema, "smoke")
    with psycopg2.connect(settings.database_dsn) as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, amount numeric(18,2))").format(table)
        )
        cur.execute(sql.SQL("INSERT INTO {} VALUES (1, 1234.50)").format(table))
    with psycopg2.connect(settings.database_dsn) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT id, amount::text FROM {}").format(table))
        assert cur.fetchall() == [(1, "1234.50")]
        cur.execute("SHOW server_version_num")
        row = cur.fetchone()
        assert row is not None and int(row[0]) >= 150000


def test_object_round_trips_through_s3_and_conditional_put_is_refused(
    s3_client: Any,
    s3_bucket: Callable[[], str],
) -> None:
    bucket = s3_bucket()
    body = uuid.uuid4().bytes * 1000
    s3_client.put_object(Bucket=bucket, Key="bronze/a.avro", Body=body, IfNoneMatch="*")
    assert s3_client.get_object(Bucket=bucket, Key="bronze/a.avro")["Body"].read() == body
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3_client.put_object(Bucket=bucket, Key="bronze/a.avro", Body=b"other", IfNoneMatch="*")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert s3_client.get_object(Bucket=bucket, Key="bronze/a.avro")["Body"].read() == body


def test_prometheus_discovers_and_scrapes_a_registered_target(
    stack: StackConfig, settings: OrionSettings
) -> None:
    registry = CollectorRegistry()
    counter = Counter("orion_smoke_total", "smoke test counter", registry=registry)
    counter.inc(7)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    port = server.server_port
    target_file = Path(stack.prometheus_sd_dir) / f"smoke-{port}.json"
    target_file.write_text(
        json.dumps([{"targets": [f"127.0.0.1:{port}"], "labels": {"service": "smoke"}}])
    )
    try:
        query = f'orion_smoke_total{{instance="127.0.0.1:{port}"}}'
        value = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            resp = httpx.get(settings.prometheus_url + "/api/v1/query", params={"query": query})
            result = resp.json()["data"]["result"]
            if result:
                value = float(result[0]["value"][1])
                break
            time.sleep(1)
        assert value == 7.0
    finally:
        target_file.unlink()
        server.shutdown()
        server.server_close()
        thread.join(5)
