"""Dead-letter headers: why a record was rejected and where it came from.

The DLQ record keeps the original key and value bytes untouched; everything
the processor knows goes in headers, so an operator (or a replay tool) can
filter by reason without decoding anything.
"""

from __future__ import annotations

from orion.reasons import Reason

__all__ = ["HEADER_REASON", "dlq_headers"]

HEADER_REASON = "orion.reason"


def dlq_headers(
    reason: Reason,
    rule: str,
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int | None,
    exc_class: str,
    message: str,
) -> list[tuple[str, bytes]]:
    """Headers of one dead letter (all UTF-8 text)."""
    return [
        (HEADER_REASON, reason.value.encode()),
        ("orion.rule", rule.encode()),
        ("orion.source.topic", topic.encode()),
        ("orion.source.partition", str(partition).encode()),
        ("orion.source.offset", str(offset).encode()),
        ("orion.source.timestamp", str(timestamp_ms if timestamp_ms is not None else "").encode()),
        ("orion.exception.class", exc_class.encode()),
        ("orion.exception.message", message[:1000].encode("utf-8", "replace")),
    ]
