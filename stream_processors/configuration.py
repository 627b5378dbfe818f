"""Settings of one processor worker, checked before anything starts.

A typed settings object (pydantic-settings, like :class:`orion.settings.OrionSettings`):
every field reads ``ORION_PROCESSOR_<NAME>`` from the environment, and
``orion process`` passes only the options given on its command line, which
win over the environment; the defaults live here and nowhere else. Durations
take the one grammar of :mod:`orion.durations` (``100ms``, ``30s``, ``7d``).
A bad value raises ConfigurationError naming the setting and how to fix it,
so the command prints one message and exits 1.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Any

from pydantic import (
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import SettingsConfigDict

from orion.durations import seconds_setting
from orion.exceptions import ConfigurationError
from orion.settings import OrionBaseSettings, load_stage_settings

__all__ = ["ProcessorConfig", "load_processor_config"]

_NAME = re.compile(r"[A-Za-z0-9._-]{1,120}")
ENV_PREFIX = "ORION_PROCESSOR_"


def _unique_instance() -> str:
    """Host and pid: two workers on one host never share a transactional id by accident."""
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:80] or "host"
    return f"{host}-{os.getpid()}"


_OPTIONS = {
    "dedup_window_s": "--dedup-window", "batch_interval_s": "--batch-interval",
    "session_timeout_s": "--session-timeout", "reference_grace_s": "--reference-grace",
    "exit_when_stuck_s": "--exit-when-stuck",
}  # fmt: skip
"""The duration settings' command-line options (``stall_after_s`` is environment only)."""
_DURATIONS = (*_OPTIONS, "stall_after_s")


class ProcessorConfig(OrionBaseSettings):
    """One worker's knobs; the app id is put under the topic prefix by :meth:`full_app_id`.

    Each field's environment variable is its ``validation_alias`` (pydantic-settings
    does not prefix an alias); code and tests pass fields by name.
    """

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    app_id: str = Field(default="orion-processor", validation_alias=ENV_PREFIX + "APP_ID")
    instance_id: str | None = Field(default=None, validation_alias=ENV_PREFIX + "INSTANCE_ID")
    """A stable name for this worker slot (a StatefulSet pod, ``worker-1``), or None.

    Given, it is the consumer group's static member id and part of the
    transactional id: a worker restarted under the same name takes its
    partitions back at once (no rebalance) and fences the transaction its
    predecessor left open, instead of waiting for the session and transaction
    timeouts. Two live workers must never share one (each fences the other);
    None gives every process a unique id (host and pid) and dynamic membership."""
    data_dir: Path = Field(
        default=Path(".stack/processor"), validation_alias=ENV_PREFIX + "DATA_DIR"
    )
    dedup_window_s: float = Field(default=7 * 86400.0, validation_alias=ENV_PREFIX + "DEDUP_WINDOW")
    batch_max_records: int = Field(default=5000, validation_alias=ENV_PREFIX + "BATCH_SIZE")
    """A transaction ends after this many raw records ..."""
    batch_interval_s: float = Field(default=0.1, validation_alias=ENV_PREFIX + "BATCH_INTERVAL")
    """... or after waiting this long for more: low latency in a quiet stream."""
    session_timeout_s: float = Field(default=30.0, validation_alias=ENV_PREFIX + "SESSION_TIMEOUT")
    """How long the group waits for a silent worker (a SIGKILLed one) before its
    partitions move."""
    reference_grace_s: float = Field(default=5.0, validation_alias=ENV_PREFIX + "REFERENCE_GRACE")
    """How long after a fact its master may be produced and still count (Kafka timestamps).

    A parked fact is decided once everything produced up to this long after it
    has been processed; in a live stream that is this long after it, in a
    backlog much sooner."""
    store_memory_mib: int = Field(default=16, validation_alias=ENV_PREFIX + "STORE_MEMORY")
    """RocksDB memory per partition's dedup store: half write buffers, half block cache."""
    stall_after_s: float = Field(default=30.0, validation_alias=ENV_PREFIX + "STALL_AFTER")
    """A loop phase (other than waiting for records) lasting longer is reported as a stall."""
    exit_when_stuck_s: float = Field(default=300.0, validation_alias=ENV_PREFIX + "EXIT_WHEN_STUCK")
    """A stall lasting longer stops the worker with status 1, for its supervisor to restart.

    A librdkafka call that never returns (librdkafka #5456: a transactional
    request to a coordinator that went away) cannot be interrupted from Python;
    leaving is safe, since nothing uncommitted counts and the restarted worker
    fences the open transaction. The limit must allow the longest restore of
    one partition's state."""
    _unique: str = PrivateAttr(default_factory=_unique_instance)

    @field_validator(*_DURATIONS, mode="before")
    @classmethod
    def _duration(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or "?"
        option = _OPTIONS.get(name, "(no option)")
        return seconds_setting(value, option, str(cls.model_fields[name].validation_alias))

    @model_validator(mode="after")
    def _check(self) -> ProcessorConfig:
        if not _NAME.fullmatch(self.app_id):
            raise ConfigurationError(
                f"app id {self.app_id!r} must be 1-120 letters, digits, '.', '_' or '-'",
                fix="pass --app-id or set ORION_PROCESSOR_APP_ID",
            )
        if self.instance_id is not None and not _NAME.fullmatch(self.instance_id):
            raise ConfigurationError(
                f"instance id {self.instance_id!r} must be 1-120 letters, digits, '.', '_' or '-'",
                fix="pass --instance-id or set ORION_PROCESSOR_INSTANCE_ID",
            )
        if not self.dedup_window_s > 0:
            raise ConfigurationError(
                f"dedup window must be > 0, got {self.dedup_window_s}",
                fix="pass e.g. --dedup-window 7d (s, m, h, d)",
            )
        if not 1 <= self.batch_max_records <= 100_000:
            raise ConfigurationError(
                f"batch size must be 1-100000 records, got {self.batch_max_records}",
                fix="pass e.g. --batch-size 5000",
            )
        if not 0.001 <= self.batch_interval_s <= 10:
            raise ConfigurationError(
                f"batch interval must be 1 ms to 10 s, got {self.batch_interval_s:g} s",
                fix="pass e.g. --batch-interval 0.1s",
            )
        if not 6 <= self.session_timeout_s <= 300:
            raise ConfigurationError(
                f"session timeout must be 6-300 seconds, got {self.session_timeout_s:g}",
                fix="pass e.g. --session-timeout 30s (the broker refuses less than 6 s)",
            )
        if not 0 <= self.reference_grace_s <= 86400:
            raise ConfigurationError(
                f"reference grace must be 0 s to 1 d, got {self.reference_grace_s:g} s",
                fix="pass e.g. --reference-grace 5s",
            )
        if not 4 <= self.store_memory_mib <= 4096:
            raise ConfigurationError(
                f"store memory must be 4-4096 MiB per partition, got {self.store_memory_mib}",
                fix="pass e.g. --store-memory 16 (MiB)",
            )
        if not max(60.0, self.stall_after_s) <= self.exit_when_stuck_s <= 86400:
            raise ConfigurationError(
                f"exit-when-stuck must be 60 s to 1 d and more than the stall report"
                f" ({self.stall_after_s:g} s), got {self.exit_when_stuck_s:g} s",
                fix="pass e.g. --exit-when-stuck 5m",
            )
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise ConfigurationError(
                f"data dir {self.data_dir} exists and is not a directory",
                fix="pass --data-dir or set ORION_PROCESSOR_DATA_DIR to a directory",
            )
        return self

    @property
    def instance(self) -> str:
        return self.instance_id or self._unique

    def full_app_id(self, topic_prefix: str) -> str:
        """Consumer group, transactional ids and changelog topics all live under the prefix."""
        return topic_prefix + self.app_id

    def transactional_id(self, topic_prefix: str) -> str:
        return f"{self.full_app_id(topic_prefix)}-{self.instance}"


def load_processor_config(**options: Any) -> ProcessorConfig:
    """The environment's settings with ``options`` (by field name) on top; None means unset."""
    return load_stage_settings(ProcessorConfig, **options)
