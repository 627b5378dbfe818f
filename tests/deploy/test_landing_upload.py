"""deploy/landing/upload.sh against the local S3: checksummed uploads, skips, loud failures."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orion.settings import OrionSettings
from producers.exports.storage import LocalStorage
from producers.exports.writer import ExportOptions, run_export
from producers.simulation import SimulationConfig

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "landing" / "upload.sh"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("curl") is None, reason="upload.sh needs curl"),
]


def _upload(
    settings: OrionSettings, src: Path, target: str, **env: str
) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "ORION_S3_ENDPOINT": settings.s3_endpoint,
        "ORION_S3_ACCESS_KEY": settings.s3_access_key,
        "ORION_S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
        "ORION_S3_REGION": settings.s3_region,
        **env,
    }
    return subprocess.run(
        ["bash", str(SCRIPT), str(src), target], capture_output=True, text=True, env=full,
        timeout=300, check=False,
    )  # fmt: skip


def test_upload_sh_puts_every_file_once_with_its_checksum(
    settings: OrionSettings, s3_client: Any, s3_bucket: Callable[[], str], tmp_path: Path
) -> None:
    src = tmp_path / "exports"
    sim = SimulationConfig(
        sources=frozenset({"erp", "supplier", "crm"}), seed=11, total_events=1500
    )
    run_export(sim, ExportOptions(events=1500), LocalStorage(src))
    files = sorted(p for p in (src / "landing").rglob("*") if p.is_file())
    bucket = s3_bucket()

    first = _upload(settings, src, f"s3://{bucket}/site-7/")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("uploaded s3://") == len(files)
    keys = [
        o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket, Prefix="site-7/")["Contents"]
    ]
    assert keys == sorted(f"site-7/{p.relative_to(src)}" for p in files)
    for p in files:
        obj = s3_client.get_object(Bucket=bucket, Key=f"site-7/{p.relative_to(src)}")
        body = obj["Body"].read()
        assert body == p.read_bytes()
        assert obj["Metadata"]["sha256"] == hashlib.sha256(body).hexdigest()

    again = _upload(settings, src, f"s3://{bucket}/site-7")
    assert again.returncode == 0, again.stderr
    assert "uploaded" not in again.stdout.replace("0 uploaded", "")
    assert again.stdout.count("skipped  s3://") == len(files)

    files[0].write_bytes(files[0].read_bytes() + b"\n")
    changed = _upload(settings, src, f"s3://{bucket}/site-7")
    assert changed.stdout.count("uploaded s3://") == 1 and f"{files[0].name}" in changed.stdout


def test_upload_sh_fails_with_a_message(
    settings: OrionSettings, s3_bucket: Callable[[], str], tmp_path: Path
) -> None:
    src = tmp_path / "exports"
    (src / "landing" / "erp" / "sales").mkdir(parents=True)
    (src / "landing" / "erp" / "sales" / "a.csv").write_text("sale_id\nS1\n")
    bucket = s3_bucket()
    bad_key = _upload(settings, src, f"s3://{bucket}", ORION_S3_SECRET_KEY="wrong")
    assert bad_key.returncode == 1 and "HTTP 403" in bad_key.stderr
    missing = _upload(settings, src, f"s3://{bucket}-missing")
    assert missing.returncode == 1 and "NoSuchBucket" in missing.stderr
    no_dir = _upload(settings, tmp_path / "nothing", f"s3://{bucket}")
    assert no_dir.returncode == 1 and "is not a directory" in no_dir.stderr
    usage = _upload(settings, src, "bucket")
    assert usage.returncode == 2 and "usage:" in usage.stderr
