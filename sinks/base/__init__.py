"""Micro-batching shared by the sinks: buffers per topic-partition, commit after a durable write."""

from sinks.base.batch import Batch, BatchLimits, KafkaRecord, TopicPartitionKey
from sinks.base.exceptions import SinkBackpressureError, SinkError, SinkTerminalError
from sinks.base.runner import RunnerOptions, RunStats, SinkRunner
from sinks.base.sink import BatchingSink

__all__ = [
    "Batch",
    "BatchLimits",
    "BatchingSink",
    "KafkaRecord",
    "RunStats",
    "RunnerOptions",
    "SinkBackpressureError",
    "SinkError",
    "SinkRunner",
    "SinkTerminalError",
    "TopicPartitionKey",
]
