"""The S3 bronze archiver: every Kafka record, byte for byte, in offset-named Avro objects."""

from sinks.s3.configuration import S3SinkConfig
from sinks.s3.consumer import run_s3_sink

__all__ = ["S3SinkConfig", "run_s3_sink"]
