"""S3Storage against versitygw: conditional puts, conditional multipart, errors, retries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orion.exceptions import ConfigurationError
from orion.settings import OrionSettings
from sinks.base import storage as s3storage
from sinks.base.storage import RetryPolicy, S3Storage, StorageUnavailableError

pytestmark = pytest.mark.integration
MiB = 1024 * 1024


def test_put_if_absent_refuses_an_existing_key(
    settings: OrionSettings, s3_bucket: Callable[[], str]
) -> None:
    storage = S3Storage(s3storage.s3_client(settings), s3_bucket())
    try:
        assert storage.put_if_absent("a/b", b"first")
        assert not storage.put_if_absent("a/b", b"second")
        assert storage.get("a/b") == b"first"
        assert list(storage.list_keys("a/")) == ["a/b"] and storage.exists("a/b")
    finally:
        storage.close()


def test_multipart_upload_is_conditional_too(
    settings: OrionSettings, s3_bucket: Callable[[], str], s3_client: Any
) -> None:
    bucket = s3_bucket()
    storage = S3Storage(
        s3storage.s3_client(settings), bucket, multipart_threshold=5 * MiB, part_size=5 * MiB
    )
    body = bytes(range(256)) * (6 * MiB // 256) + b"tail"
    try:
        assert storage.put_if_absent("big", body)
        assert not storage.put_if_absent("big", body[::-1])
        assert storage.get("big") == body
        head = s3_client.head_object(Bucket=bucket, Key="big")
        assert head["ContentLength"] == len(body) and "-2" in head["ETag"]  # two parts
        assert not s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads")
    finally:
        storage.close()


def test_an_unreachable_store_is_retried_then_reported_as_transient(
    settings: OrionSettings,
) -> None:
    dead = settings.model_copy(update={"s3_endpoint": "http://127.0.0.1:9"})
    slept: list[float] = []
    storage = S3Storage(
        s3storage.s3_client(dead, timeout_s=1),
        "x-bucket",
        retry=RetryPolicy(attempts=3),
        sleep=slept.append,
    )
    try:
        with pytest.raises(StorageUnavailableError):
            storage.put_if_absent("k", b"v")
        assert slept == [0.2, 0.4]
        with pytest.raises(ConfigurationError, match="did not answer"):
            storage.check_bucket()
    finally:
        storage.close()
