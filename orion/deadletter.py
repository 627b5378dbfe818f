"""The dead-letter record's headers: the contract between the processors and the tools.

A dead letter keeps the original key and value bytes; these headers say why
it was rejected and where it came from, so operators and `orion replay dlq`
can filter and re-feed without decoding anything.
"""

from __future__ import annotations

REASON = "orion.reason"
RULE = "orion.rule"
SOURCE_TOPIC = "orion.source.topic"
SOURCE_PARTITION = "orion.source.partition"
SOURCE_OFFSET = "orion.source.offset"
SOURCE_TIMESTAMP = "orion.source.timestamp"
EXCEPTION_CLASS = "orion.exception.class"
EXCEPTION_MESSAGE = "orion.exception.message"
#: Set on a record `orion replay dlq` re-published: "<dlq topic>:<partition>:<offset>".
REPLAYED_FROM = "orion.replayed.from"
#: Set on a dead letter written without its value (and key) because they would not fit
#: the producer's record limit: "<value bytes> value bytes, <key bytes> key bytes omitted".
#: The original is the raw record at the ``orion.source.*`` coordinates.
PAYLOAD_OMITTED = "orion.payload.omitted"
