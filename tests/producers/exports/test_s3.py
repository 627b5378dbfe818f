"""``orion produce --to-files s3://...`` against the local S3: the local export's objects."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orion.settings import OrionSettings

pytestmark = pytest.mark.integration


def _produce(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orionctl", "produce", "--seed", "5", "--events", "2500", *args],
        capture_output=True, text=True, env=os.environ, timeout=300, check=False,
    )  # fmt: skip


def test_an_s3_export_writes_the_local_exports_objects(
    settings: OrionSettings, s3_client: Any, s3_bucket: Callable[[], str], tmp_path: Path
) -> None:
    bucket = s3_bucket()
    remote = _produce("--to-files", f"s3://{bucket}/runs/a", "--ledger", str(tmp_path / "s3.jsonl"))
    assert remote.returncode == 0, remote.stderr
    assert f"to s3://{bucket}/runs/a/" in remote.stdout and "xlsx" in remote.stdout
    local = _produce("--to-files", str(tmp_path / "out"), "--ledger", str(tmp_path / "local.jsonl"))
    assert local.returncode == 0, local.stderr

    keys: list[str] = []
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="runs/a/")
    for page in pages:
        keys.extend(o["Key"] for o in page.get("Contents", []))
    files = sorted(p for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert keys == [f"runs/a/{p.relative_to(tmp_path / 'out')}" for p in files]
    assert all(k.startswith("runs/a/landing/") for k in keys)
    for key, p in zip(keys, files, strict=True):
        obj = s3_client.get_object(Bucket=bucket, Key=key)
        body = obj["Body"].read()
        assert body == p.read_bytes()
        assert obj["Metadata"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert (tmp_path / "s3.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()

    again = _produce("--to-files", f"s3://{bucket}/runs/a")
    assert again.returncode == 1 and "already holds exported files" in again.stderr
