"""The manifest of one archived day: which offsets each archive object holds, and from where.

One JSON file per topic and date, ``archive/<topic>/dt=<date>/manifest.json``,
rewritten (merged) after every compaction of that day. It is written only
after its archive objects were read back and verified, so a bronze object
listed under ``sources`` may be deleted.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sinks.base.storage import S3Storage

MANIFEST_NAME = "manifest.json"
VERSION = 1


@dataclass(frozen=True)
class ArchiveEntry:
    """One archive object: its offsets, record count and checksum, and the bronze objects in it."""

    key: str
    partition: int
    first_offset: int
    last_offset: int
    count: int
    records_sha256: str
    bytes: int
    sources: tuple[str, ...]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ArchiveEntry:
        return cls(**{**d, "sources": tuple(d["sources"])})


@dataclass
class Manifest:
    topic: str
    date: dt.date
    entries: dict[str, ArchiveEntry] = field(default_factory=dict)

    def covered_sources(self) -> set[str]:
        return {s for e in self.entries.values() for s in e.sources}

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": VERSION,
                "topic": self.topic,
                "date": self.date.isoformat(),
                "objects": [
                    {**asdict(e), "sources": list(e.sources)}
                    for e in sorted(
                        self.entries.values(), key=lambda e: (e.partition, e.first_offset)
                    )
                ],
            },
            indent=2,
        ).encode()


def manifest_key(prefix: str, topic: str, date: dt.date) -> str:
    return f"{prefix}/{topic}/dt={date.isoformat()}/{MANIFEST_NAME}"


def load_manifest(storage: S3Storage, prefix: str, topic: str, date: dt.date) -> Manifest:
    """The day's manifest, or an empty one when the day was never archived."""
    try:
        body = storage.get(manifest_key(prefix, topic, date))
    except ClientError as e:
        if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            return Manifest(topic, date)
        raise
    data = json.loads(body)
    entries = [ArchiveEntry.from_json(d) for d in data["objects"]]
    return Manifest(topic, date, {e.key: e for e in entries})


def save_manifest(storage: S3Storage, prefix: str, manifest: Manifest) -> None:
    storage.put(manifest_key(prefix, manifest.topic, manifest.date), manifest.to_json())
