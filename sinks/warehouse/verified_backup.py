"""Backups to S3 that are known good: checksummed when taken, restored and compared later.

``backup_to_s3`` dumps the database and checksums every warehouse table in
one snapshot (``pg_export_snapshot`` shared with ``pg_dump --snapshot``), so
the checksums describe exactly what the dump holds even while the loader
writes. The dump goes to ``<key>`` and the checksums to ``<key>.checksums.json``,
written last: a key with its checksums file is a complete backup, and taking
it again for the same key changes nothing.

``verify_backup`` restores the dump into a scratch database on the same
server, checksums it the same way, drops the scratch database and raises
:class:`BackupMismatchError` naming every table that differs.
"""

from __future__ import annotations

import json
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

from orion.database_url import with_database
from orion.exceptions import OrionError
from sinks.base.storage import S3Storage
from sinks.warehouse.backup import backup, restore
from sinks.warehouse.checksum import table_checksums
from sinks.warehouse.db import connect

__all__ = ["BackupMismatchError", "BackupResult", "backup_to_s3", "checksums_key", "verify_backup"]

Checksums = dict[str, tuple[int, str]]


class BackupMismatchError(OrionError):
    """A restored backup does not match the checksums taken with it."""


@dataclass(frozen=True)
class BackupResult:
    key: str
    bytes: int
    tables: int
    rows: int
    taken: bool  # False: the key already held a complete backup


def checksums_key(key: str) -> str:
    return key + ".checksums.json"


def _encode(sums: Checksums) -> bytes:
    return json.dumps({t: {"rows": n, "md5": d} for t, (n, d) in sums.items()}, indent=2).encode()


def _decode(body: bytes) -> Checksums:
    return {t: (int(v["rows"]), str(v["md5"])) for t, v in json.loads(body).items()}


def backup_to_s3(dsn: str, storage: S3Storage, key: str) -> BackupResult:
    """Dump and checksum in one snapshot, upload both (see the module docstring)."""
    if storage.exists(checksums_key(key)):
        sums = _decode(storage.get(checksums_key(key)))
        return BackupResult(key, 0, len(sums), sum(n for n, _ in sums.values()), taken=False)
    conn = connect(dsn, application="orion-backup")
    try:
        conn.rollback()
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot()")
            row = cur.fetchone()
        snapshot = str(row[0]) if row else None
        with tempfile.TemporaryDirectory(prefix="orion-backup-") as tmp:
            path = backup(dsn, Path(tmp) / "warehouse.dump", snapshot=snapshot)
            sums = table_checksums(conn)  # still in the snapshot's transaction
            body = path.read_bytes()
    finally:
        conn.close()
    storage.put(key, body)
    storage.put(checksums_key(key), _encode(sums))
    return BackupResult(key, len(body), len(sums), sum(n for n, _ in sums.values()), taken=True)


def _admin(dsn: str) -> psycopg2.extensions.connection:
    conn = connect(with_database(dsn, "postgres"), application="orion-backup-verify")
    conn.autocommit = True
    return conn


def verify_backup(dsn: str, storage: S3Storage, key: str) -> Checksums:
    """Restore ``key`` into a scratch database and compare checksums; the matching checksums."""
    expected = _decode(storage.get(checksums_key(key)))
    scratch = f"orion_verify_{secrets.token_hex(4)}"
    admin = _admin(dsn)
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
        try:
            with tempfile.TemporaryDirectory(prefix="orion-verify-") as tmp:
                path = Path(tmp) / "warehouse.dump"
                path.write_bytes(storage.get(key))
                scratch_dsn = with_database(dsn, scratch)
                restore(scratch_dsn, path)
            conn = connect(scratch_dsn, application="orion-backup-verify")
            try:
                found = table_checksums(conn)
            finally:
                conn.close()
        finally:
            with admin.cursor() as cur:
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(scratch)
                    )
                )
    finally:
        admin.close()
    differ = sorted(t for t in expected.keys() | found.keys() if expected.get(t) != found.get(t))
    if differ:
        raise BackupMismatchError(
            f"restored s3://{storage.bucket}/{key} differs from its checksums in: "
            + ", ".join(f"{t} (expected {expected.get(t)}, got {found.get(t)})" for t in differ),
            fix="the backup is not good: take a new one and find out what changed it",
        )
    return found
