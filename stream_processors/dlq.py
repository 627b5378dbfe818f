"""Dead-letter headers: why a record was rejected and where it came from.

The DLQ record keeps the original key and value bytes untouched; everything
the processor knows goes in headers, so an operator (or a replay tool) can
filter by reason without decoding anything.
"""

from __future__ import annotations

from orion import deadletter as h
from orion.reasons import Reason

__all__ = ["HEADER_REASON", "dlq_headers"]

HEADER_REASON = h.REASON


def dlq_headers(
    reason: Reason,
    rule: str,
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int | None,
    exc_class: str,
    message: str,
) -> list[tuple[str, str | bytes | None]]:
    """Headers of one dead letter (all UTF-8 text)."""
    return [
        (h.REASON, reason.value.encode()),
        (h.RULE, rule.encode()),
        (h.SOURCE_TOPIC, topic.encode()),
        (h.SOURCE_PARTITION, str(partition).encode()),
        (h.SOURCE_OFFSET, str(offset).encode()),
        (h.SOURCE_TIMESTAMP, str(timestamp_ms if timestamp_ms is not None else "").encode()),
        (h.EXCEPTION_CLASS, exc_class.encode()),
        (h.EXCEPTION_MESSAGE, message[:1000].encode("utf-8", "replace")),
    ]
