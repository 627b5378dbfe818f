"""Knobs of the dq sink, with the defaults a long-running service uses.

A typed settings object like the other sinks': each field falls back to
``ORION_DQ_SINK_<FIELD>``; ``orion sink dq`` passes only the options given on
its command line, which win. The defaults live here and nowhere else.
"""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from orion.catalog import entities
from orion.exceptions import ConfigurationError
from orion.settings import OrionBaseSettings

__all__ = ["DEFAULT_GROUP", "DqSinkConfig", "dq_topics"]

DEFAULT_GROUP = "orion-dq-sink"


def dq_topics(prefix: str = "") -> tuple[str, ...]:
    """Every raw, clean and dlq topic of the catalog under ``prefix``: what the counts need."""
    return tuple(prefix + e.topic(layer) for layer in ("raw", "clean", "dlq") for e in entities())


class DqSinkConfig(OrionBaseSettings):
    """Batch bounds, consumer group and back-off of one dq sink process.

    A batch (every partition's buffer, one PostgreSQL transaction) commits at
    ``max_records`` records, ``max_bytes`` bytes or ``max_wait_s`` seconds
    after its first record. Counts are small, so large batches cost little;
    the time bound is how stale the scorecard may be. A database that does
    not answer pauses the partitions for ``retry_after_s``, doubling up to
    ``max_retry_after_s``.
    """

    model_config = SettingsConfigDict(env_prefix="ORION_DQ_SINK_", frozen=True, extra="ignore")

    topics: tuple[str, ...]
    topic_prefix: str = ""
    group: str = DEFAULT_GROUP
    instance_id: str | None = None
    #: The name its offsets are stored under in metadata.sink_offsets.
    sink: str = "dq"
    max_records: int = 20_000
    max_wait_s: float = 2.0
    max_bytes: int = 64 * 1024 * 1024
    session_timeout_ms: int = 10_000
    retry_after_s: float = 1.0
    max_retry_after_s: float = 30.0

    @model_validator(mode="after")
    def _check(self) -> DqSinkConfig:
        if self.max_records < 1 or self.max_bytes < 1:
            raise ConfigurationError("max_records and max_bytes must be >= 1")
        if self.max_wait_s <= 0 or self.retry_after_s <= 0 or self.max_retry_after_s <= 0:
            raise ConfigurationError("max_wait_s, retry_after_s and max_retry_after_s must be > 0")
        layers = tuple(self.topic_prefix + layer + "." for layer in ("raw", "clean", "dlq"))
        bad = [t for t in self.topics if not t.startswith(layers)]
        if bad or not self.topics:
            raise ConfigurationError(
                "the dq sink counts raw, clean and dlq topics only, "
                f"got {', '.join(bad) or 'none'}",
                fix=f"name topics {self.topic_prefix}<raw|clean|dlq>.<domain>.<entity>",
            )
        return self
