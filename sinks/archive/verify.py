"""Verification of archived days: each manifest against its archive objects and bronze.

Run after ``compact`` (the lifecycle DAG's second task), and by an operator
before trusting an archive for a replay. For every archived day in the range:
each archive object the manifest lists exists and holds ``count`` records
from ``first_offset`` to ``last_offset`` with the listed checksum, and no
bronze object of that day is left that the manifest does not cover (which
would mean a compaction stopped half way, or bronze written after it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sinks.archive.compact import ArchiveOptions
from sinks.archive.manifest import MANIFEST_NAME, load_manifest
from sinks.base.storage import S3Storage
from sinks.s3.format import AvroContainerFormat, records_checksum
from sinks.s3.partitioner import parse_key

__all__ = ["DayVerification", "verify_archive"]


@dataclass
class DayVerification:
    topic: str
    date: dt.date
    objects: int = 0
    records: int = 0
    problems: list[str] = field(default_factory=list)


def _days(
    storage: S3Storage, prefix: str, first: dt.date, before: dt.date
) -> list[tuple[str, dt.date]]:
    days = []
    for topic_folder in storage.list_folders(f"{prefix}/"):
        topic = topic_folder.rstrip("/").rsplit("/", 1)[-1]
        for day_folder in storage.list_folders(topic_folder):
            try:
                date = dt.date.fromisoformat(day_folder.rstrip("/").rsplit("/", 1)[-1][3:])
            except ValueError:
                continue
            if first <= date < before and storage.exists(day_folder + MANIFEST_NAME):
                days.append((topic, date))
    return sorted(days)


def verify_archive(
    storage: S3Storage, first: dt.date, before: dt.date, options: ArchiveOptions | None = None
) -> list[DayVerification]:
    """Check every archived day in ``[first, before)``; problems are listed, not raised."""
    opts = options or ArchiveOptions()
    fmt = AvroContainerFormat()
    out = []
    for topic, date in _days(storage, opts.archive_prefix, first, before):
        day = DayVerification(topic, date)
        manifest = load_manifest(storage, opts.archive_prefix, topic, date)
        for entry in manifest.entries.values():
            if not storage.exists(entry.key):
                day.problems.append(f"{entry.key} is listed but missing")
                continue
            held = fmt.decode(storage.get(entry.key))
            offsets = (held[0].offset, held[-1].offset) if held else (None, None)
            if len(held) != entry.count or offsets != (entry.first_offset, entry.last_offset):
                day.problems.append(
                    f"{entry.key} holds {len(held)} records {offsets}, the manifest says "
                    f"{entry.count} ({entry.first_offset}, {entry.last_offset})"
                )
            elif records_checksum(held) != entry.records_sha256:
                day.problems.append(f"{entry.key}: records checksum differs from the manifest")
            day.objects += 1
            day.records += len(held)
        covered = manifest.covered_sources()
        bronze = f"{opts.bronze_prefix}/{topic}/dt={date.isoformat()}/"
        for key in storage.list_keys(bronze):
            if parse_key(key) is None:
                continue
            if key in covered:
                day.problems.append(f"{key} is archived but was not deleted")
            else:
                day.problems.append(f"{key} is not in the manifest (not archived)")
        out.append(day)
    return out
