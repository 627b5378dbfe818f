"""Compaction of old bronze days into large archive objects, safe to interrupt and rerun.

For one topic, date and partition: read the bronze objects in offset order,
write them as a few large archive objects (conditional puts, named by first
offset like bronze), read each back and verify record count and checksum,
merge the day's manifest, and only then delete the bronze objects. A rerun
finds bronze objects the manifest already lists and just deletes them; an
archive object written before an interruption is recognised by its name and
its records' checksum.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sinks.archive.manifest import ArchiveEntry, load_manifest, save_manifest
from sinks.base import KafkaRecord
from sinks.base.storage import S3Storage
from sinks.s3.exceptions import ArchiveConflictError
from sinks.s3.format import AvroContainerFormat, records_checksum
from sinks.s3.partitioner import ObjectName, parse_key

log = logging.getLogger("sinks.archive")


@dataclass(frozen=True)
class ArchiveOptions:
    bronze_prefix: str = "bronze"
    archive_prefix: str = "archive"
    max_bytes: int = 256 * 1024 * 1024


@dataclass(frozen=True)
class PartitionDay:
    """The bronze objects of one topic, date and partition, in offset order."""

    topic: str
    date: dt.date
    partition: int
    sources: tuple[str, ...]
    covered: tuple[str, ...]  # already in an archive object the manifest lists


@dataclass
class CompactionResult:
    records: int = 0
    archive_objects: int = 0
    deleted: int = 0
    keys: list[str] = field(default_factory=list)


def plan_compaction(
    storage: S3Storage,
    before: dt.date,
    *,
    topics: tuple[str, ...] | None = None,
    options: ArchiveOptions | None = None,
) -> list[PartitionDay]:
    """Every partition-day of bronze dated before ``before``; reads listings and manifests only."""
    opts = options or ArchiveOptions()
    plan: list[PartitionDay] = []
    for topic_folder in storage.list_folders(f"{opts.bronze_prefix}/"):
        topic = topic_folder.rstrip("/").rsplit("/", 1)[-1]
        if topics is not None and topic not in topics:
            continue
        for day_folder in storage.list_folders(topic_folder):
            day = day_folder.rstrip("/").rsplit("/", 1)[-1]
            try:
                date = dt.date.fromisoformat(day.removeprefix("dt="))
            except ValueError:
                continue
            if date >= before:
                continue
            by_partition: dict[int, list[ObjectName]] = defaultdict(list)
            for key in storage.list_keys(day_folder):
                name = parse_key(key)
                if name is not None:
                    by_partition[name.partition].append(name)
            if not by_partition:
                continue
            covered = load_manifest(storage, opts.archive_prefix, topic, date).covered_sources()
            for partition, names in sorted(by_partition.items()):
                keys = [n.key for n in sorted(names, key=lambda n: n.start_offset)]
                plan.append(
                    PartitionDay(
                        topic,
                        date,
                        partition,
                        tuple(k for k in keys if k not in covered),
                        tuple(k for k in keys if k in covered),
                    )
                )
    return plan


def _chunks(
    storage: S3Storage, fmt: AvroContainerFormat, sources: tuple[str, ...], max_bytes: int
) -> list[tuple[list[KafkaRecord], list[str]]]:
    """Whole bronze objects grouped into chunks of about ``max_bytes`` (records, source keys)."""
    chunks: list[tuple[list[KafkaRecord], list[str]]] = []
    records: list[KafkaRecord] = []
    keys: list[str] = []
    size = 0
    last = -1
    for key in sources:
        for r in fmt.decode(storage.get(key)):
            if r.offset <= last:
                continue  # an overlap between bronze objects: keep the first copy
            records.append(r)
            size += r.size
            last = r.offset
        keys.append(key)
        if size >= max_bytes:
            chunks.append((records, keys))
            records, keys, size = [], [], 0
    if keys:
        chunks.append((records, keys))
    return chunks


def _store_verified(
    storage: S3Storage, fmt: AvroContainerFormat, name: ObjectName, records: list[KafkaRecord]
) -> tuple[int, list[KafkaRecord]]:
    """Write (or recognise) the archive object; returns (bytes, records it holds), verified."""
    body = fmt.encode(records)
    if not storage.put_if_absent(name.key, body):
        log.info("archive object exists, verifying it", extra={"key": name.key})
    stored = storage.get(name.key)
    held = fmt.decode(stored)
    n = len(held)
    if n == 0 or n > len(records) or records_checksum(held) != records_checksum(records[:n]):
        raise ArchiveConflictError(
            f"{name.key} does not hold the records of its bronze sources",
            fix="inspect the object; bronze sources were not deleted",
        )
    return len(stored), held


def compact(
    storage: S3Storage, day: PartitionDay, options: ArchiveOptions | None = None
) -> CompactionResult:
    """Archive one partition-day and delete its bronze objects once the archive is verified."""
    opts = options or ArchiveOptions()
    fmt = AvroContainerFormat(level=6)
    result = CompactionResult()
    manifest = load_manifest(storage, opts.archive_prefix, day.topic, day.date)
    for entry in manifest.entries.values():
        if set(entry.sources) & set(day.covered) and not storage.exists(entry.key):
            raise ArchiveConflictError(
                f"the manifest lists {entry.key} but it is missing",
                fix="restore the archive object or remove its entry from the manifest",
            )
    pending = list(_chunks(storage, fmt, day.sources, opts.max_bytes)) if day.sources else []
    while pending:
        records, keys = pending.pop(0)
        if not records:
            continue
        name = ObjectName(
            opts.archive_prefix, day.topic, day.date, day.partition, records[0].offset
        )
        size, held = _store_verified(storage, fmt, name, records)
        if len(held) < len(records):
            # An earlier, interrupted run wrote a shorter object here: it holds
            # whole bronze objects; the rest of the chunk becomes the next one.
            taken, count = [], 0
            for key in keys:
                if count >= len(held):
                    break
                taken.append(key)
                count += len(fmt.decode(storage.get(key)))
            if count != len(held):
                raise ArchiveConflictError(
                    f"{name.key} ends inside a bronze object", fix="inspect the archive"
                )
            pending.insert(0, (records[len(held) :], keys[len(taken) :]))
            keys = taken
        manifest.entries[name.key] = ArchiveEntry(
            key=name.key,
            partition=day.partition,
            first_offset=held[0].offset,
            last_offset=held[-1].offset,
            count=len(held),
            records_sha256=records_checksum(held),
            bytes=size,
            sources=tuple(keys),
        )
        result.records += len(held)
        result.archive_objects += 1
        result.keys.append(name.key)
    # Manifest first, then deletes: a bronze object goes only once an archive lists it.
    save_manifest(storage, opts.archive_prefix, manifest)
    covered = manifest.covered_sources()
    for key in (*day.covered, *day.sources):
        if key in covered:
            storage.delete(key)
            result.deleted += 1
    log.info(
        "partition-day archived",
        extra={
            "topic": day.topic,
            "date": day.date.isoformat(),
            "partition": day.partition,
            "records": result.records,
            "deleted": result.deleted,
        },
    )
    return result
