"""A fatal error event (code _FATAL, fatal() false) ends a consume loop like a fatal error."""

from __future__ import annotations

from confluent_kafka import KafkaError

from orion.kafka_errors import is_fatal


def test_the_fatal_event_and_fatal_errors_are_fatal_others_are_not() -> None:
    event = KafkaError(KafkaError._FATAL, "Fatal error: Static consumer fenced")
    assert not event.fatal()  # how librdkafka delivers it to a consumer loop
    assert is_fatal(event)
    assert is_fatal(KafkaError(KafkaError._FENCED, "fenced", fatal=True))
    assert not is_fatal(KafkaError(KafkaError._TRANSPORT, "broker down"))
    assert not is_fatal(KafkaError(KafkaError._MAX_POLL_EXCEEDED, "poll interval exceeded"))
