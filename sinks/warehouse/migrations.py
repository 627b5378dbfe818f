"""Numbered migrations from ``warehouse_sql/``, each applied once.

Files are named ``NNNN_description.sql`` and applied in number order, each in
its own transaction together with its row in ``metadata.schema_migrations``
(number, name, SHA-256 of the file). Editing a file after it was applied is
refused by name: the database would silently differ from what the files say,
so the fix is a new migration. Concurrent ``migrate`` runs serialise on an
advisory lock, so two deployments starting at once do not race.

Once ``0010_roles.sql`` has made ``orion_migrator`` the owner of the
schemas, every later migration runs under ``SET LOCAL ROLE orion_migrator``
(when the login is a member), so the tables it creates belong to the
migrator and get the loader's and the analyst's grants from the default
privileges, whoever runs ``migrate`` (a DBA's superuser, the stack's own).

Called by ``orion warehouse migrate``; the loader calls :func:`require_current`
at start-up and refuses to load into a database that lags the files.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql
from psycopg2.extensions import connection as Connection

from sinks.warehouse.db import connect
from sinks.warehouse.exceptions import ChangedMigrationError, MigrationError

__all__ = [
    "MIGRATIONS_DIR",
    "Migration",
    "MigrationState",
    "discover",
    "migrate",
    "require_current",
    "status",
]

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "warehouse_sql"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK_ID = 0x6F72696F6E  # "orion": one migrator at a time per database
OWNER_ROLE = "orion_migrator"
_OWNER_CHECK = """
SELECT CASE WHEN to_regrole(%(role)s) IS NULL THEN false
            ELSE EXISTS (SELECT 1 FROM pg_namespace
                         WHERE nspname = 'warehouse' AND nspowner = to_regrole(%(role)s))
                 AND pg_has_role(%(role)s, 'MEMBER') END
"""

_BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS metadata;
CREATE TABLE IF NOT EXISTS metadata.schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path
    checksum: str

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class MigrationState:
    """A file and what the database knows of it: applied, pending or changed."""

    version: int
    name: str
    state: str


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file in number order; MigrationError for a duplicate number."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if m is None:
            continue
        version = int(m[1])
        if version in found:
            raise MigrationError(
                f"two migrations numbered {version:04d}: {found[version].name} and {path.name}",
                fix="renumber one of them",
            )
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        found[version] = Migration(version, path.name, path, digest)
    return [found[v] for v in sorted(found)]


def _applied(conn: Connection) -> dict[int, tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('metadata.schema_migrations') IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return {}
        cur.execute("SELECT version, name, checksum FROM metadata.schema_migrations")
        return {int(v): (str(n), str(c)) for v, n, c in cur.fetchall()}


def status(conn: Connection, directory: Path = MIGRATIONS_DIR) -> list[MigrationState]:
    """Each file's state, plus applied versions whose file is gone ("missing")."""
    applied = _applied(conn)
    conn.rollback()
    out = []
    files = discover(directory)
    for m in files:
        if m.version not in applied:
            out.append(MigrationState(m.version, m.name, "pending"))
        elif applied[m.version][1] != m.checksum or applied[m.version][0] != m.name:
            out.append(MigrationState(m.version, m.name, "changed"))
        else:
            out.append(MigrationState(m.version, m.name, "applied"))
    known = {m.version for m in files}
    out += [MigrationState(v, n, "missing") for v, (n, _) in applied.items() if v not in known]
    return sorted(out, key=lambda s: s.version)


def _refuse_changed(states: list[MigrationState]) -> None:
    changed = [s.name for s in states if s.state == "changed"]
    if changed:
        raise ChangedMigrationError(
            f"applied migration(s) changed since they were applied: {', '.join(changed)}",
            fix="restore the file(s) as applied and put the change in a new numbered migration",
        )


def migrate(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the pending migrations in order; returns their names (empty when up to date)."""
    conn = connect(dsn, application="orion-migrate")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
            cur.execute(_BOOTSTRAP)
        conn.commit()
        states = status(conn, directory)
        _refuse_changed(states)
        pending = {s.version for s in states if s.state == "pending"}
        done = []
        for m in discover(directory):
            if m.version not in pending:
                continue
            try:
                with conn.cursor() as cur:
                    cur.execute(_OWNER_CHECK, {"role": OWNER_ROLE})
                    row = cur.fetchone()
                    if row is not None and row[0]:
                        cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
                    cur.execute(m.sql())
                    cur.execute(
                        "INSERT INTO metadata.schema_migrations (version, name, checksum) "
                        "VALUES (%s, %s, %s)",
                        (m.version, m.name, m.checksum),
                    )
                conn.commit()
            except Exception as e:
                conn.rollback()
                raise MigrationError(
                    f"migration {m.name} failed and was rolled back: {e}".strip(),
                    fix="correct the file (it was not applied) and run `orion warehouse migrate`",
                ) from e
            done.append(m.name)
        return done
    finally:
        conn.close()


def require_current(conn: Connection, directory: Path = MIGRATIONS_DIR) -> None:
    """MigrationError unless every file is applied unchanged (the loader's start-up check)."""
    states = status(conn, directory)
    _refuse_changed(states)
    pending = [s.name for s in states if s.state == "pending"]
    if pending:
        raise MigrationError(
            f"the warehouse schema is behind: {len(pending)} migration(s) not applied "
            f"({', '.join(pending[:3])}{', ...' if len(pending) > 3 else ''})",
            fix="run `orion warehouse migrate`",
        )
