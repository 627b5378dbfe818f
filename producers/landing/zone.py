"""The landing zone's S3 operations: list what waits, read it, and decide it.

A decision writes the report first, then copies the file to its verdict
prefix, then deletes it from ``landing/``: a crash between any two steps
leaves the file in ``landing/``, where the next pass reads it again (its
rows get the same event ids, so nothing is doubled) and decides it again
(the same keys, overwritten).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from orion.catalog import Entity, dependency_order
from orion.exceptions import ConfigurationError, OrionError, TransientError
from orion.landing import LANDING, PROCESSED, REJECTED, REPORT_SUFFIX, decided_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["LandingObject", "LandingZone", "ZoneUnavailableError"]


class ZoneUnavailableError(OrionError, TransientError):
    """S3 failed during a pass; the file stays in the landing zone for the next one."""


@dataclass(frozen=True)
class LandingObject:
    key: str
    size: int
    entity: Entity | None
    """None when the key is under no entity's prefix (it is rejected)."""


@contextmanager
def _s3(action: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as e:
        raise ZoneUnavailableError(f"S3 {action} failed: {e}") from e


class LandingZone:
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        order = dependency_order()
        self._prefixes = {f"{e.domain}/{e.name}/": e for e in order}
        self._rank = {e.stem: i for i, e in enumerate(order)}

    def check(self) -> None:
        """ConfigurationError, with the fix, when the bucket is missing or refused."""
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            raise ConfigurationError(
                f"landing bucket {self.bucket!r} does not exist or is not accessible ({code})",
                fix="create it (`orion stack up` creates the stack's bucket) or set "
                "ORION_INGEST_BUCKET / ORION_S3_BUCKET to one these credentials may use",
            ) from e
        except BotoCoreError as e:
            raise ConfigurationError(
                f"S3 endpoint unreachable: {e}", fix="check ORION_S3_ENDPOINT and that S3 is up"
            ) from e

    def pending(self) -> list[LandingObject]:
        """Every file under ``landing/``: referents' files before their referrers', then by key.

        Files under no entity's prefix come last (they are rejected at once).
        """
        found: list[LandingObject] = []
        with _s3("list"):
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=LANDING
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    key = obj["Key"]
                    if key.endswith("/"):
                        continue  # a folder marker some tools create
                    found.append(LandingObject(key, int(obj.get("Size", 0)), self._entity_of(key)))
        last = len(self._rank)
        found.sort(key=lambda o: (self._rank[o.entity.stem] if o.entity else last, o.key))
        return found

    def _entity_of(self, key: str) -> Entity | None:
        rest = key.removeprefix(LANDING)
        for prefix, entity in self._prefixes.items():
            if rest.startswith(prefix) and "/" not in rest.removeprefix(prefix):
                return entity
        return None

    def read(self, key: str) -> bytes:
        with _s3(f"get {key}"):
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def where_decided(self, key: str, days: tuple[date, ...]) -> str | None:
        """The processed/ or rejected/ key a landing file went to on one of ``days``, or None.

        None too while the file is still in the landing zone (a move copies
        first and deletes last, so only a file no longer there is decided).
        """
        with _s3(f"head {key}"):
            try:
                self.s3.head_object(Bucket=self.bucket, Key=key)
                return None
            except ClientError as e:
                if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
                    raise
            for day in days:
                for prefix in (PROCESSED, REJECTED):
                    target = decided_key(key, prefix, day)
                    try:
                        self.s3.head_object(Bucket=self.bucket, Key=target)
                    except ClientError as e:
                        if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
                            raise
                        continue
                    return target
        return None

    def decide(self, key: str, verdict_prefix: str, day: date, report: bytes) -> str:
        """Report, copy, delete; the key the file now has."""
        target = decided_key(key, verdict_prefix, day)
        with _s3(f"decide {key}"):
            self.s3.put_object(
                Bucket=self.bucket,
                Key=target + REPORT_SUFFIX,
                Body=report,
                ContentType="application/json",
            )
            self.s3.copy_object(
                Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key}
            )
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        return target
