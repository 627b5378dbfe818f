"""Which Kafka client errors end a client for good.

librdkafka reports a fatal error twice: on the call that hit it (an error
whose ``fatal()`` is true) and as a consumer event whose code is ``_FATAL``
and whose ``fatal()`` is false. A static group member fenced by another
member with its ``group.instance.id`` (after it overran max.poll.interval.ms
on a starved machine and rejoined) arrives the second way; a loop that
checks only ``fatal()`` logs a warning and then polls a dead consumer
forever, alive but consuming nothing. Every consume loop asks here instead.
"""

from __future__ import annotations

from confluent_kafka import KafkaError

__all__ = ["is_fatal"]


def is_fatal(error: KafkaError) -> bool:
    """True when the client that returned ``error`` can do nothing more."""
    return bool(error.fatal()) or error.code() == KafkaError._FATAL
