"""Knobs of the warehouse loader, with the defaults a long-running service uses.

A typed settings object (pydantic-settings, like :class:`orion.settings.OrionSettings`):
each field falls back to ``ORION_WAREHOUSE_SINK_<FIELD>`` (e.g.
``ORION_WAREHOUSE_SINK_MAX_RECORDS``); ``orion sink warehouse`` passes only the
options given on its command line, which win. The defaults live here and
nowhere else.
"""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from orion.catalog import entities
from orion.exceptions import ConfigurationError
from orion.settings import OrionBaseSettings

__all__ = ["DEFAULT_GROUP", "WarehouseSinkConfig", "clean_topics"]

DEFAULT_GROUP = "orion-warehouse-sink"


def clean_topics(prefix: str = "") -> tuple[str, ...]:
    """Every ``clean.*`` topic of the catalog, under the settings' topic prefix."""
    return tuple(prefix + e.topic("clean") for e in entities())


class WarehouseSinkConfig(OrionBaseSettings):
    """Batch bounds, consumer group and retry policy of one loader process.

    A batch (every partition's buffer, one transaction) commits when it holds
    ``max_records`` records or ``max_bytes`` bytes, or ``max_wait_s`` seconds
    have passed since its first record, whichever comes first: large batches
    amortise the merge statements, the time bound keeps the warehouse fresh
    when traffic is light.

    When the database does not answer, the partitions pause for
    ``retry_after_s``, doubling per consecutive failure up to
    ``max_retry_after_s``; ``db_retries`` consecutive failures (None: never)
    end the run with exit 1 for a supervisor to restart.
    """

    model_config = SettingsConfigDict(
        env_prefix="ORION_WAREHOUSE_SINK_", frozen=True, extra="ignore"
    )

    topics: tuple[str, ...]
    topic_prefix: str = ""
    group: str = DEFAULT_GROUP
    #: Static membership: a restarted loader with the same id gets its partitions
    #: back at once instead of waiting for the group to time the old one out.
    instance_id: str | None = None
    sink: str = "warehouse"
    max_records: int = 5000
    #: 0.5 s, not the 2 s it was: a trickle's latency is this wait plus the load
    #: (steady p99 at 250 events/s: 3.49 s with 2 s, 2.10 s with 0.5 s; bench/e2e.py,
    #: 2026-12-02). A backlog still fills big batches, by max_records.
    max_wait_s: float = 0.5
    max_bytes: int = 64 * 1024 * 1024
    session_timeout_ms: int = 10_000
    retry_after_s: float = 1.0
    max_retry_after_s: float = 30.0
    db_retries: int | None = None

    @model_validator(mode="after")
    def _check(self) -> WarehouseSinkConfig:
        if self.max_records < 1:
            raise ConfigurationError(f"max_records must be >= 1, got {self.max_records}")
        if self.max_wait_s <= 0:
            raise ConfigurationError(f"max_wait_s must be > 0, got {self.max_wait_s}")
        if self.max_bytes < 1 or self.retry_after_s <= 0 or self.max_retry_after_s <= 0:
            raise ConfigurationError(
                "max_bytes, retry_after_s and max_retry_after_s must be positive"
            )
        if self.db_retries is not None and self.db_retries < 0:
            raise ConfigurationError(f"db_retries must be >= 0, got {self.db_retries}")
        bad = [t for t in self.topics if not t.startswith(self.topic_prefix + "clean.")]
        if bad or not self.topics:
            raise ConfigurationError(
                f"the warehouse loads clean topics only, got {', '.join(bad) or 'none'}",
                fix=f"name topics {self.topic_prefix}clean.<domain>.<entity>",
            )
        return self
