"""Knobs of the S3 sink, with the defaults a long-running service uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from sinks.base import BatchLimits

DEFAULT_GROUP = "orion-s3-sink"


@dataclass(frozen=True)
class S3SinkConfig:
    """Rotation limits, multipart threshold and back-off of one sink process.

    Rotation defaults: 50,000 records, 16 MiB buffered, or 60 s since a
    batch's first record, whichever comes first, and always at a change of
    record date. Memory is bounded by ``max_bytes`` per assigned partition
    plus librdkafka's fetch queue (``queued_max_kbytes``).
    """

    topics: tuple[str, ...]
    group: str = DEFAULT_GROUP
    #: Static group membership (``group.instance.id``): a restarted worker with the same id
    #: takes its partitions back at once instead of waiting for the group to time it out.
    instance_id: str | None = None
    limits: BatchLimits = field(default_factory=BatchLimits)
    prefix: str = "bronze"
    codec: str = "deflate"
    multipart_threshold: int = 32 * 1024 * 1024
    part_size: int = 16 * 1024 * 1024
    retry_after_s: float = 5.0
    queued_max_kbytes: int = 32 * 1024
