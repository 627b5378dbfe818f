"""Backups of the warehouse database with pg_dump / pg_restore (custom format).

The custom format is compressed, restores selectively and in parallel, and is
what ``pg_restore`` needs to ``--clean`` a database it restores over. Binaries
are those of the server's major version (Debian's versioned directories,
else PATH): pg_dump refuses a server newer than itself.
The password travels in ``PGPASSWORD``, never on a command line others can
read in ``ps``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from orion.database_url import split_password
from orion.exceptions import OrionError
from sinks.warehouse.db import connect

__all__ = ["BackupError", "backup", "restore"]


class BackupError(OrionError):
    """pg_dump or pg_restore failed; the message carries its stderr."""


def _tool(name: str, major: int) -> str:
    """``name`` of the server's major version (Debian installs each under its own bin)."""
    versioned = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if versioned.exists():
        return str(versioned)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found", fix=f"install the PostgreSQL {major} client (postgresql-client)"
        )
    return found


def _server_major(dsn: str) -> int:
    """The server's major version: pg_dump refuses a server newer than itself."""
    conn = connect(dsn, application="orion-backup")
    try:
        return int(conn.server_version) // 10000
    finally:
        conn.close()


def _split(dsn: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and an environment carrying the password."""
    url, password = split_password(dsn)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    return url, env


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError(
            f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}",
            fix="check the path and that the database is reachable",
        )


def backup(dsn: str, path: Path, *, snapshot: str | None = None) -> Path:
    """Dump the whole database to ``path`` (written to a temporary name, then renamed).

    ``snapshot``: a ``pg_export_snapshot()`` of an open transaction, so that the
    dump holds exactly what that transaction sees (a verified backup's checksums).
    """
    path = path.expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    url, env = _split(dsn)
    major = _server_major(dsn)
    _run(
        [
            _tool("pg_dump", major),
            "--format=custom",
            "--no-owner",
            f"--file={tmp}",
            f"--dbname={url}",
            *([f"--snapshot={snapshot}"] if snapshot else []),
        ],
        env,
        "pg_dump",
    )
    tmp.replace(path)
    return path


#: What a restore replaces: the product's schemas (and the extension their constraints use).
_DROP = (
    "DROP SCHEMA IF EXISTS analytics, warehouse, metadata, dq CASCADE; "
    "DROP EXTENSION IF EXISTS btree_gist CASCADE;"
)


def restore(dsn: str, path: Path) -> None:
    """Restore ``path`` over the database, all or nothing.

    ``pg_restore --clean`` cannot drop the inherited constraints of
    partitions, so the product's schemas are dropped by hand instead, in the
    same transaction as the restore: pg_restore writes the SQL, psql runs it
    after the DROP with ``--single-transaction``; on any error nothing changed.
    """
    path = path.expanduser().resolve()
    if not path.is_file():
        raise BackupError(
            f"no backup at {path}", fix="give the file `orion warehouse backup` wrote"
        )
    url, env = _split(dsn)
    major = _server_major(dsn)
    dump = subprocess.Popen(
        [_tool("pg_restore", major), "--no-owner", "--file=-", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    psql = subprocess.run(
        [
            _tool("psql", major),
            "--quiet",
            "--no-psqlrc",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={url}",
            "--command",
            _DROP,
            "--file=-",
        ],
        stdin=dump.stdout,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if dump.stdout is not None:
        dump.stdout.close()
    dump_err = dump.stderr.read().decode(errors="replace") if dump.stderr else ""
    if dump.wait() != 0:
        raise BackupError(
            f"pg_restore failed: {dump_err.strip()[-2000:]}",
            fix="is the file a `warehouse backup` (pg_dump custom format)?",
        )
    if psql.returncode != 0:
        raise BackupError(
            f"restore failed and was rolled back: {psql.stderr.strip()[-2000:]}",
            fix="check that the database is reachable and the backup is complete",
        )
