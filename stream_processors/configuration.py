"""Settings of one processor worker, checked before anything starts.

Who builds it: ``orion process`` from its options (each with an ``ORION_PROCESSOR_*``
environment fallback). A bad value raises ConfigurationError at start-up,
so the command prints one message and exits 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orion.exceptions import ConfigurationError

__all__ = ["GUARANTEES", "ProcessorConfig"]

GUARANTEES = ("exactly_once", "at_least_once")
_APP_ID = re.compile(r"[A-Za-z0-9._-]{1,120}")


@dataclass(frozen=True)
class ProcessorConfig:
    """One worker's knobs; the app id is put under the topic prefix by :meth:`full_app_id`."""

    app_id: str = "orion-processor"
    data_dir: Path = Path(".stack/processor")
    dedup_window_s: float = 7 * 86400.0
    guarantee: str = "exactly_once"
    web_port: int | None = None  # faust's own web server; None keeps it off
    commit_interval_s: float = 1.0
    tick_interval_s: float = 0.5
    max_poll_records: int = 2000
    # How long the group waits for a silent worker (a SIGKILLed one) before its
    # partitions move. Faust's 60 s default held a restarted worker idle for ~1m45s.
    session_timeout_s: float = 30.0
    reference_grace_s: float = 5.0
    """How long after a fact its master may be produced and still count (Kafka timestamps).

    A live stream has nothing that late yet, so there a fact waits for the
    high-water mark seen after it was parked; in a backlog this bounds how much
    of it a parked fact waits for."""
    store_memory_mib: int = 16
    """RocksDB memory per table partition: half write buffers, half block cache.

    Faust's defaults (three 64 MiB write buffers and a 2 GiB block cache per
    database, one database per table and partition) let the RSS climb for
    hundreds of thousands of events (623 MiB after 500k with 6 databases,
    measured 2026-11-26). The worker reads the tables only to load a partition
    after an assignment and to fetch a parked record's bytes when it is decided;
    dedup lookups use an in-memory index (:mod:`.state`)."""

    def __post_init__(self) -> None:
        if not _APP_ID.fullmatch(self.app_id):
            raise ConfigurationError(
                f"app id {self.app_id!r} must be 1-120 letters, digits, '.', '_' or '-'",
                fix="pass --app-id or set ORION_PROCESSOR_APP_ID",
            )
        if not self.dedup_window_s > 0:
            raise ConfigurationError(
                f"dedup window must be > 0, got {self.dedup_window_s}",
                fix="pass e.g. --dedup-window 7d (s, m, h, d)",
            )
        if self.guarantee not in GUARANTEES:
            raise ConfigurationError(
                f"processing guarantee {self.guarantee!r} is not one of {', '.join(GUARANTEES)}"
            )
        if self.web_port is not None and not 0 < self.web_port < 65536:
            raise ConfigurationError(f"web port must be 1-65535, got {self.web_port}")
        if not 0 < self.commit_interval_s <= 60 or not 0 < self.tick_interval_s <= 60:
            raise ConfigurationError("commit and tick intervals must be between 0 and 60 seconds")
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
                f"store memory must be 4-4096 MiB per table partition, got {self.store_memory_mib}",
                fix="pass e.g. --store-memory 16 (MiB)",
            )
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise ConfigurationError(
                f"data dir {self.data_dir} exists and is not a directory",
                fix="pass --data-dir or set ORION_PROCESSOR_DATA_DIR to a directory",
            )

    def rocksdb_options(self) -> dict[str, int]:
        """Options for every table's RocksDB store (Faust's ``Table(options=...)``)."""
        mib = 1024 * 1024
        half = self.store_memory_mib * mib // 2
        return {
            "write_buffer_size": half // 2,
            "max_write_buffer_number": 2,
            "target_file_size_base": 16 * mib,
            "block_cache_size": half,
        }

    def full_app_id(self, topic_prefix: str) -> str:
        """Consumer group, transactional ids and changelog topics all live under the prefix."""
        return topic_prefix + self.app_id


def parse_duration(text: str) -> float:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"90s"`` or plain seconds -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if m is None:
        raise ConfigurationError(
            f"not a duration: {text!r}", fix="use a number with s, m, h or d, e.g. 7d"
        )
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
