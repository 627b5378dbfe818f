"""How large a record the processor may produce, and what it does with one that is larger.

Who calls it: :class:`~stream_processors.processor.Processor`, before every
clean or dead-letter record it emits, and once per raw record it reads.

Why: librdkafka refuses to produce a record over the producer's
``message.max.bytes`` (``MSG_SIZE_TOO_LARGE``, raised by ``produce`` inside
the transaction). The engine takes that, like any Kafka error, as a reason to
abort the batch and read it again, so one record near the broker's limit (a
source may write up to the broker's ``message.max.bytes``, 1 MiB + 12 bytes by
default) stopped the stream for good: its clean twin or its dead letter,
with their headers, no longer fit (found by the fuzz test). So sizes are
checked before anything is produced:

- a raw record whose key and value leave less than :data:`HEADROOM` below
  :data:`MAX_RECORD_BYTES` is dead-lettered ``RECORD_TOO_LARGE`` at once,
  undecoded: whatever the processor would write for it (clean record, dead
  letter, parked-fact changelog row) could exceed the limit;
- a clean record that would not fit is dead-lettered the same way;
- a dead letter that would not fit is written without its payload (and
  without its key if that alone is too large), with header
  :data:`orion.deadletter.PAYLOAD_OMITTED` saying how large it was; the
  original stays in the raw topic (and the bronze archive) at the source
  coordinates the dead letter names.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["HEADROOM", "MAX_RECORD_BYTES", "raw_fits", "wire_size"]

MAX_RECORD_BYTES = 1_000_000
"""The engine producer's ``message.max.bytes`` (librdkafka's default, set explicitly
in :func:`stream_processors.engine.clients.producer_config`): below the broker's own
default of 1,048,588, so a record librdkafka accepts the broker accepts too."""
HEADROOM = 16 * 1024
"""Room a raw record must leave for the dead-letter headers (the exception message is cut
at 1,000 characters, at most 4 KB of UTF-8) and the parked-fact changelog row's header."""
_RECORD_OVERHEAD = 64
"""librdkafka's per-record framing estimate (RD_KAFKAP_MESSAGE_V2_MAX_OVERHEAD, rounded up)."""
_HEADER_OVERHEAD = 10
"""Two varints (name and value lengths) per header."""


def wire_size(
    key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, str | bytes | None]] | None
) -> int:
    """An upper bound of the size librdkafka holds against ``message.max.bytes``."""
    size = _RECORD_OVERHEAD + len(key or b"") + len(value or b"")
    for name, v in headers or ():
        size += _HEADER_OVERHEAD + len(name.encode()) + (0 if v is None else len(v))
    return size


def raw_fits(key: bytes | None, value: bytes | None) -> bool:
    """True when everything the processor writes for this raw record fits the limit."""
    return len(key or b"") + len(value or b"") <= MAX_RECORD_BYTES - HEADROOM
