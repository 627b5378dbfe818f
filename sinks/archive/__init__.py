"""Archive lifecycle of bronze: compaction with a manifest, and replay from the archive."""

from sinks.archive.compact import (
    ArchiveOptions,
    CompactionResult,
    PartitionDay,
    compact,
    plan_compaction,
)
from sinks.archive.replay import ReplayStats, plan_replay, replay

__all__ = [
    "ArchiveOptions",
    "CompactionResult",
    "PartitionDay",
    "ReplayStats",
    "compact",
    "plan_compaction",
    "plan_replay",
    "replay",
]
