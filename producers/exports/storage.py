"""Where export files go: a local directory or an S3 prefix, by key.

Who calls it: the writer, once per finished file, with the file's bytes and
their SHA-256. Keys are ``landing/<domain>/<entity>/<name>`` under the root
(the directory, or the prefix after the bucket), so a local export can later
be uploaded as it is (``deploy/landing/upload.sh``). Local files are written
to a temporary name and renamed, so a crash never leaves half a file under a
name the ingester takes. S3 objects carry the SHA-256 as ``x-amz-meta-sha256``
(upload.sh reads it to skip what is already there).

Before the first file, :meth:`Storage.check` refuses a target that already
holds this exporter's files: a shorter run over a longer one's output would
leave the old tail behind, mixed in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from orion.landing import LANDING
from producers.exports.exceptions import ExportError, ExportTargetError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["LocalStorage", "S3Storage", "S3Target", "Storage", "parse_target"]

_OURS = "orion-"
_CONTENT_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class Storage(Protocol):
    """Bytes to a key; see the module docstring."""

    def check(self) -> None:
        """Raise ExportTargetError if the target is unusable or holds exports already."""

    def put(self, key: str, data: bytes, sha256: str) -> None:
        """Store one finished file; ExportError if it cannot be stored."""

    def describe(self, key: str = "") -> str:
        """Where ``key`` is, for messages (``/tmp/x/landing/...``, ``s3://b/p/landing/...``)."""


@dataclass(frozen=True)
class S3Target:
    bucket: str
    prefix: str
    """Empty or ending in ``/``."""


def parse_target(text: str) -> Path | S3Target:
    """``s3://bucket[/prefix]`` or a directory path; ValueError for an s3 URL without a bucket."""
    if not text.startswith("s3://"):
        return Path(text)
    bucket, _, prefix = text.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"{text!r} names no bucket (s3://bucket/prefix)")
    prefix = prefix.strip("/")
    return S3Target(bucket, prefix + "/" if prefix else "")


def _ours(name: str) -> bool:
    return name.startswith(_OURS)


class LocalStorage:
    """Files under a directory (created if missing)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def check(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise ExportTargetError(
                f"--to-files {self.root} is not a directory", fix="give a directory path"
            )
        landing = self.root / LANDING
        if landing.is_dir() and any(_ours(p.name) for p in landing.rglob("*") if p.is_file()):
            raise ExportTargetError(
                f"{landing} already holds exported files",
                fix="export into an empty directory, or delete the old export first",
            )

    def put(self, key: str, data: bytes, sha256: str) -> None:
        path = self.root / key
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as e:
            raise ExportError(f"cannot write {path}: {e}", fix="check the disk and rerun") from e

    def describe(self, key: str = "") -> str:
        return str(self.root / key)


class S3Storage:
    """Objects under ``s3://bucket/prefix``."""

    def __init__(self, client: S3Client, target: S3Target) -> None:
        self._s3 = client
        self.target = target

    def check(self) -> None:
        t = self.target
        try:
            page = self._s3.list_objects_v2(Bucket=t.bucket, Prefix=t.prefix + LANDING)
        except (ClientError, BotoCoreError) as e:
            raise ExportTargetError(
                f"cannot list {self.describe(LANDING)}: {e}",
                fix="check the bucket exists and ORION_S3_* point at the store",
            ) from e
        if any(_ours(o["Key"].rsplit("/", 1)[-1]) for o in page.get("Contents", [])):
            raise ExportTargetError(
                f"{self.describe(LANDING)} already holds exported files",
                fix="export under a new prefix (s3://bucket/another/prefix)",
            )

    def put(self, key: str, data: bytes, sha256: str) -> None:
        t = self.target
        try:
            self._s3.put_object(
                Bucket=t.bucket,
                Key=t.prefix + key,
                Body=data,
                Metadata={"sha256": sha256},
                ContentType=_CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream"),
            )
        except (ClientError, BotoCoreError) as e:
            raise ExportError(
                f"cannot put {self.describe(key)}: {e}", fix="check the S3 store and rerun"
            ) from e

    def describe(self, key: str = "") -> str:
        return f"s3://{self.target.bucket}/{self.target.prefix}{key}"
