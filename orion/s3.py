"""The S3 client factory: one place that turns the settings into a boto3 client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from orion.settings import OrionSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def client(settings: OrionSettings, *, timeout_s: float = 10.0, attempts: int = 3) -> S3Client:
    """A path-style client for ``settings``' endpoint.

    ``attempts=1`` turns botocore's own retries off, for callers that retry
    and count failures themselves (the bronze sink).
    """
    s3: S3Client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
        config=Config(
            retries={"max_attempts": attempts, "mode": "standard"},
            connect_timeout=min(timeout_s, 3.0),
            read_timeout=timeout_s,
            max_pool_connections=16,
            s3={"addressing_style": "path"},
        ),
    )
    return s3
