"""Knobs of the silver sink, with the defaults a long-running service uses.

A typed settings object (pydantic-settings, like :class:`sinks.s3.S3SinkConfig`):
each field falls back to ``ORION_SILVER_SINK_<FIELD>`` (e.g.
``ORION_SILVER_SINK_MAX_RECORDS``); ``orion sink silver`` passes only the
options given on its command line, which win. The defaults live here and
nowhere else. A bad value stops the command at start-up with the variable to
correct (:func:`orion.settings.load_stage_settings`).
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from orion.exceptions import ConfigurationError
from orion.settings import OrionBaseSettings
from sinks.base import BatchLimits
from sinks.silver.parquet_format import Compression

__all__ = ["DEFAULT_GROUP", "SilverSinkConfig"]

DEFAULT_GROUP = "orion-silver-sink"


class SilverSinkConfig(OrionBaseSettings):
    """Rotation, file format and back-off of one silver sink process.

    A partition's buffer becomes Parquet files when it holds ``max_records``
    records or ``max_bytes`` bytes (of Kafka records, as received), or
    ``max_age_s`` seconds after its first record, whichever comes first, so an
    idle partition is flushed too. Larger files read faster; the age bound is
    how stale silver may be. Memory is bounded by ``max_bytes`` per assigned
    partition (decoded, a batch takes a few times that while it is written)
    plus librdkafka's fetch queue (``queued_max_kbytes``).
    """

    model_config = SettingsConfigDict(env_prefix="ORION_SILVER_SINK_", frozen=True, extra="ignore")

    topics: tuple[str, ...]
    topic_prefix: str = ""
    group: str = DEFAULT_GROUP
    """The consumer group, in full (the CLI puts it under the topic prefix)."""
    instance_id: str | None = None
    """Static group membership (``group.instance.id``): a restarted worker with the same id
    takes its partitions back at once instead of waiting for the group to time it out."""
    prefix: str = "silver"
    max_records: int = Field(default=100_000, ge=1)
    max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    max_age_s: float = Field(default=60.0, gt=0)
    compression: Compression = "zstd"
    row_group_rows: int = Field(default=128 * 1024, ge=1024)
    retry_after_s: float = Field(default=5.0, gt=0)
    queued_max_kbytes: int = Field(default=32 * 1024, ge=1)

    @model_validator(mode="after")
    def _clean_topics_only(self) -> SilverSinkConfig:
        bad = [t for t in self.topics if not t.startswith(self.topic_prefix + "clean.")]
        if bad or not self.topics:
            raise ConfigurationError(
                f"the silver sink reads clean topics only, got {', '.join(bad) or 'none'}",
                fix=f"name topics {self.topic_prefix}clean.<domain>.<entity> "
                "(ORION_SILVER_SINK_TOPICS or --topics)",
            )
        if not self.prefix.strip("/"):
            raise ConfigurationError(
                "the silver prefix is empty", fix="set ORION_SILVER_SINK_PREFIX, e.g. silver"
            )
        return self

    @property
    def limits(self) -> BatchLimits:
        return BatchLimits(self.max_records, self.max_bytes, self.max_age_s)

    def stem(self, topic: str) -> str:
        """The entity stem of one of ``topics`` (``erp.sales`` of ``<prefix>clean.erp.sales``)."""
        return topic.removeprefix(self.topic_prefix).removeprefix("clean.")
