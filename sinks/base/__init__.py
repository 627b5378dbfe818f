"""The one sink runner: buffers per topic-partition, offsets recorded only after a durable write.

A sink is a :class:`BatchingSink` (its ``write`` and its limits) run by
:class:`SinkRunner` with an :class:`OffsetStore`: :class:`KafkaOffsets` for
object stores, :class:`DestinationOffsets` for a destination that stores
offsets in its own transaction.
"""

from sinks.base.batch import Batch, BatchLimits, KafkaRecord, TopicPartitionKey
from sinks.base.exceptions import SinkBackpressureError, SinkError, SinkTerminalError
from sinks.base.offsets import DestinationOffsets, KafkaOffsets, OffsetStore
from sinks.base.runner import RunnerOptions, RunStats, SinkRunner
from sinks.base.sink import BatchingSink

__all__ = [
    "Batch",
    "BatchLimits",
    "BatchingSink",
    "DestinationOffsets",
    "KafkaOffsets",
    "KafkaRecord",
    "OffsetStore",
    "RunStats",
    "RunnerOptions",
    "SinkBackpressureError",
    "SinkError",
    "SinkRunner",
    "SinkTerminalError",
    "TopicPartitionKey",
]
