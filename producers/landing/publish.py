"""Rows of one file to Kafka, and the answer to "did the broker take every one?".

The same producer settings and raw-schema encoders as ``orion produce``
(idempotent, ``acks=all``), so a file's events are indistinguishable from
streamed ones. A file counts as published only when every row was
acknowledged; otherwise :class:`PublishError` leaves it in the landing zone
and the next pass sends it again (same event ids: the processors drop the
copies).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, Message, Producer

from orion.catalog import Entity
from orion.exceptions import OrionError, TransientError
from orion.registry import Registry
from orion.serde import AvroEncoder
from orion.settings import OrionSettings
from producers.landing.rows import RawRow
from producers.runner import build_encoders, check_broker, producer_config

__all__ = ["PublishError", "Publisher"]


class PublishError(OrionError, TransientError):
    """Kafka did not acknowledge every row of a file in time."""


@dataclass
class _Acks:
    ok: int = 0
    failed: int = 0
    first_error: str | None = None
    errors: list[str] = field(default_factory=list)

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.ok += 1
            return
        self.failed += 1
        if self.first_error is None:
            self.first_error = str(err)


class Publisher:
    """One Kafka producer for the ingester's life; publishes one file at a time."""

    def __init__(self, settings: OrionSettings, ack_timeout_s: float) -> None:
        config = producer_config(settings)
        config["client.id"] = "orion-ingester"
        self._producer = Producer(config)
        self._prefix = settings.topic_prefix
        self._ack_timeout_s = ack_timeout_s
        check_broker(self._producer, settings.kafka_client_config(), self._prefix)
        with Registry.of(settings) as registry:
            self._encoders: dict[str, AvroEncoder] = build_encoders(registry, self._prefix)

    def publish(self, entity: Entity, rows: Iterable[RawRow]) -> int:
        """Send ``rows`` to the entity's raw topic; the count, once all are acknowledged."""
        raw = entity.topic("raw")
        topic = self._prefix + raw
        encode = self._encoders[raw]
        acks = _Acks()
        sent = 0
        producer = self._producer
        for row in rows:
            value = encode(row.record)
            while True:
                try:
                    producer.produce(topic, value=value, key=row.key.encode(), on_delivery=acks)
                    break
                except BufferError:
                    producer.poll(0.05)  # local queue full: let deliveries drain, never drop
            sent += 1
            if sent % 1000 == 0:
                producer.poll(0)
        remaining = producer.flush(self._ack_timeout_s)
        if remaining or acks.failed or acks.ok != sent:
            raise PublishError(
                f"{topic}: {acks.ok} of {sent} rows acknowledged, {acks.failed} failed, "
                f"{remaining} still queued after {self._ack_timeout_s:g} s"
                + (f" (first error: {acks.first_error})" if acks.first_error else ""),
                fix="the file stays in the landing zone and is sent again on the next pass",
            )
        return sent

    def close(self) -> None:
        self._producer.flush(self._ack_timeout_s)
