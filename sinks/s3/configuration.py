"""Knobs of the S3 sink, with the defaults a long-running service uses.

A typed settings object (pydantic-settings, like :class:`orion.settings.OrionSettings`):
each scalar field falls back to ``ORION_S3_SINK_<FIELD>`` (e.g.
``ORION_S3_SINK_RETRY_AFTER_S``); ``orion sink s3`` passes only the options
given on its command line, which win. The defaults live here and nowhere else.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from orion.settings import OrionBaseSettings
from sinks.base import BatchLimits

__all__ = ["DEFAULT_GROUP", "S3SinkConfig"]

DEFAULT_GROUP = "orion-s3-sink"


class S3SinkConfig(OrionBaseSettings):
    """Rotation limits, multipart threshold and back-off of one sink process.

    Rotation defaults: 50,000 records, 16 MiB buffered, or 60 s since a
    batch's first record, whichever comes first, and always at a change of
    record date (:class:`~sinks.base.BatchLimits`). Memory is bounded by
    ``max_bytes`` per assigned partition plus librdkafka's fetch queue
    (``queued_max_kbytes``).
    """

    model_config = SettingsConfigDict(env_prefix="ORION_S3_SINK_", frozen=True, extra="ignore")

    topics: tuple[str, ...]
    group: str = DEFAULT_GROUP
    """The consumer group, in full (the CLI puts it under the topic prefix)."""
    instance_id: str | None = None
    """Static group membership (``group.instance.id``): a restarted worker with the same id
    takes its partitions back at once instead of waiting for the group to time it out."""
    limits: BatchLimits = Field(default_factory=BatchLimits)
    prefix: str = "bronze"
    codec: str = "deflate"
    multipart_threshold: int = Field(default=32 * 1024 * 1024, ge=5 * 1024 * 1024)
    part_size: int = Field(default=16 * 1024 * 1024, ge=5 * 1024 * 1024)
    retry_after_s: float = Field(default=5.0, gt=0)
    queued_max_kbytes: int = Field(default=32 * 1024, ge=1)
