"""Storage: bytes -> object, only ever created, never overwritten; shared by the object sinks.

The bronze sink (:mod:`sinks.s3`), the silver sink (:mod:`sinks.silver`) and
the archive tools write through it; each names its own failure counters
(:class:`StorageCounters`), so a failing S3 call is counted under the sink
that made it.

Every put is conditional (``If-None-Match: *``): S3 (and versitygw) answer
412 PreconditionFailed when the key exists, which :meth:`put_if_absent`
reports as ``False``. Bodies above ``multipart_threshold`` go up in parts and
the *complete* call carries the same condition (versitygw 1.7 honours it, as
does AWS S3); a refused upload is aborted so no parts are left behind.

Transient failures (connection refused, timeouts, 5xx, throttling) are
retried with exponential back-off; when the retries run out,
:class:`StorageUnavailableError` tells the caller to back off and try later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from prometheus_client import Counter

from orion import s3 as orion_s3
from orion.exceptions import ConfigurationError, OrionError, TransientError
from orion.settings import OrionSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("sinks.storage")
T = TypeVar("T")

_TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "Throttling",
        "503",
        "500",
    }
)


class StorageUnavailableError(OrionError, TransientError):
    """S3 did not answer or kept failing after the retries."""


class Storage(Protocol):
    """Where objects go; implemented by :class:`S3Storage`."""

    def put_if_absent(self, key: str, body: bytes) -> bool: ...

    def get(self, key: str) -> bytes: ...

    def list_keys(self, prefix: str) -> Iterator[str]: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def put(self, key: str, body: bytes) -> None: ...


@dataclass(frozen=True)
class StorageCounters:
    """Where a storage counts failed S3 calls and retries, labelled by ``operation``."""

    errors: Counter
    retries: Counter


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0


def s3_client(settings: OrionSettings, *, timeout_s: float = 10.0) -> S3Client:
    """A boto3 client without botocore's own retries: :class:`S3Storage` retries and counts."""
    return orion_s3.client(settings, timeout_s=timeout_s, attempts=1)


def open_storage(settings: OrionSettings, counters: StorageCounters, **options: Any) -> S3Storage:
    """The settings' bucket as storage, checked: a missing bucket is a ConfigurationError here.

    ``options`` are :class:`S3Storage`'s (multipart threshold, part size).
    """
    storage = S3Storage(s3_client(settings), settings.s3_bucket, counters=counters, **options)
    try:
        storage.check_bucket(settings.s3_access_key)
    except BaseException:
        storage.close()
        raise
    return storage


#: Error codes of a refused access key or secret (AWS, and versitygw's unknown user).
CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "XAdminUserNotFound", "InvalidToken"}
)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _transient(error: Exception) -> bool:
    if isinstance(error, BotoCoreError):
        return True  # connection refused/reset, timeouts, incomplete reads
    if isinstance(error, ClientError):
        return _code(error) in _TRANSIENT_CODES or _status(error) >= 500
    return False


class S3Storage:
    """One bucket of an S3-compatible store."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        multipart_threshold: int = 32 * 1024 * 1024,
        part_size: int = 16 * 1024 * 1024,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        counters: StorageCounters | None = None,
    ) -> None:
        if part_size < 5 * 1024 * 1024:
            raise ConfigurationError(
                f"multipart part size must be at least 5 MiB, got {part_size}",
                fix="raise the part size",
            )
        self.client = client
        self.bucket = bucket
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._counters = counters

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        delay = self.retry.base_delay_s
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return fn()
            except (BotoCoreError, ClientError) as e:
                if not _transient(e):
                    raise
                if self._counters is not None:
                    self._counters.errors.labels(operation).inc()
                if attempt == self.retry.attempts:
                    raise StorageUnavailableError(
                        f"S3 {operation} failed {attempt} times: {e}",
                        fix="check that the S3 endpoint is up (`orion stack status`)",
                    ) from e
                if self._counters is not None:
                    self._counters.retries.labels(operation).inc()
                log.warning(
                    "S3 call failed, retrying",
                    extra={"operation": operation, "attempt": attempt, "error": str(e)},
                )
                self._sleep(delay)
                delay = min(delay * 2, self.retry.max_delay_s)
        raise AssertionError("unreachable")

    def check_bucket(self, access_key: str | None = None) -> None:
        """Stop at start-up when the bucket is missing, the credentials are refused or the
        store cannot be reached, each with its own message.

        A HEAD has no body, so its 403 or 404 does not say why; a listing of
        no keys does (``NoSuchBucket``, ``SignatureDoesNotMatch``, ...), and
        versitygw even answers an unknown access key with 404. ``access_key``
        is printed to name the credential refused (never the secret).
        """
        try:
            self._call("head_bucket", lambda: self.client.head_bucket(Bucket=self.bucket))
        except ClientError as e:
            if _status(e) in (404, 403) or _code(e) in ("NoSuchBucket", "404", "403"):
                raise self._why_refused(e, access_key) from e
            raise
        except StorageUnavailableError as e:
            raise ConfigurationError(
                f"S3 endpoint did not answer: {e.message}",
                fix="start the store (`orion stack up`) or correct ORION_S3_ENDPOINT",
            ) from e

    def _why_refused(self, head: ClientError, access_key: str | None) -> ConfigurationError:
        try:
            self._call(
                "list_objects_v2",
                lambda: self.client.list_objects_v2(Bucket=self.bucket, MaxKeys=0),
            )
            code = _code(head) or str(_status(head))
        except ClientError as e:
            code = _code(e) or str(_status(e))
        key = f"ORION_S3_ACCESS_KEY={access_key}" if access_key else "ORION_S3_ACCESS_KEY"
        if code in CREDENTIAL_CODES:
            return ConfigurationError(
                f"S3 refused the credentials ({key}; check ORION_S3_SECRET_KEY) [{code}]",
                fix="correct ORION_S3_ACCESS_KEY and ORION_S3_SECRET_KEY (or its _FILE)",
            )
        if code == "AccessDenied":
            return ConfigurationError(
                f"S3 denied access to bucket {self.bucket!r} ({key}) [{code}]",
                fix=f"grant that key access to {self.bucket!r}, or use a key that has it",
            )
        return ConfigurationError(
            f"S3 bucket {self.bucket!r} does not exist or is not accessible [{code}]",
            fix=f"create it (`aws s3 mb s3://{self.bucket}`) or set ORION_S3_BUCKET "
            "to an existing bucket",
        )

    def put_if_absent(self, key: str, body: bytes) -> bool:
        """Create the object; False when it already exists (nothing is overwritten)."""
        if len(body) > self.multipart_threshold:
            return self._multipart_if_absent(key, body)
        try:
            self._call(
                "put_object",
                lambda: self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*"
                ),
            )
        except ClientError as e:
            if _status(e) == 412 or _code(e) == "PreconditionFailed":
                return False
            raise
        return True

    def _multipart_if_absent(self, key: str, body: bytes) -> bool:
        upload_id = self._call(
            "create_multipart_upload",
            lambda: self.client.create_multipart_upload(Bucket=self.bucket, Key=key),
        )["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            for number, start in enumerate(range(0, len(body), self.part_size), start=1):
                chunk = body[start : start + self.part_size]
                etag = self._call(
                    "upload_part",
                    lambda n=number, c=chunk: self.client.upload_part(  # type: ignore[misc]
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=c
                    ),
                )["ETag"]
                parts.append({"PartNumber": number, "ETag": etag})
            self._call(
                "complete_multipart_upload",
                lambda: self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                    IfNoneMatch="*",
                ),
            )
        except ClientError as e:
            self._abort(key, upload_id)
            if _status(e) == 412 or _code(e) == "PreconditionFailed":
                return False
            raise
        except BaseException:
            self._abort(key, upload_id)
            raise
        return True

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (BotoCoreError, ClientError) as e:  # the bucket's lifecycle rule cleans up
            log.warning("abort of multipart upload failed", extra={"key": key, "error": str(e)})

    def put(self, key: str, body: bytes) -> None:
        """Unconditional put, for derived files that are rewritten on purpose (manifests)."""
        self._call(
            "put_object", lambda: self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
        )

    def get(self, key: str) -> bytes:
        def read() -> bytes:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

        return self._call("get_object", read)

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        except ClientError as e:
            if _status(e) == 404 or _code(e) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._call("delete_object", lambda: self.client.delete_object(Bucket=self.bucket, Key=key))

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix`` in lexicographic order (offset order within a folder)."""
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list_objects_v2", partial(self.client.list_objects_v2, **kwargs))
            for obj in page.get("Contents", []):
                yield obj["Key"]
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def list_folders(self, prefix: str) -> list[str]:
        """Immediate sub-folders of ``prefix`` (which ends with ``/``)."""
        out: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "Delimiter": "/"}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list_objects_v2", partial(self.client.list_objects_v2, **kwargs))
            out.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
            if not page.get("IsTruncated"):
                return out
            token = page.get("NextContinuationToken")

    def close(self) -> None:
        self.client.close()
