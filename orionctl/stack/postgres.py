"""PostgreSQL from Debian's packages, in a cluster of the stack's own.

``initdb`` makes the cluster under the stack directory on its own port; it
holds the warehouse database and the schema registry's storage. PostgreSQL
refuses to run as root, so as root the server runs as the ``postgres`` system
user that Debian's package creates.

The cluster's bootstrap superuser serves the registry and this module only.
After start-up the warehouse database is migrated (which creates the roles
of ``warehouse_sql/0010_roles.sql``) and each role gets LOGIN and a random
password of its own (:mod:`orionctl.stack.secrets`); the endpoints file
names one URL per role. ``orion_migrator`` also gets CREATEDB and
``pg_signal_backend`` here, because tests and the demo create and drop
their own databases with it (``DROP DATABASE ... WITH (FORCE)`` ends the
loader's sessions); a production migrator needs neither.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import pwd
import re
import shutil
import signal
import stat
from functools import cached_property
from pathlib import Path

import psycopg2
from psycopg2 import sql

from orion.exceptions import StackError
from orionctl.stack import secrets
from orionctl.stack.component import Component
from orionctl.stack.install import run_step

log = logging.getLogger(__name__)

MIN_MAJOR = 15
MIGRATOR = "orion_migrator"
LOADER = "orion_loader"
ANALYST = "orion_analyst"
ROLES = (MIGRATOR, LOADER, ANALYST)
#: pg_advisory_lock key of :meth:`Postgres.after_start` (any constant no other code uses).
SET_UP_LOCK = 0x7365747570  # "setup"
APT_FIX = "install PostgreSQL 15+: apt-get install -y postgresql (or run `make deps`)"


def find_bindir() -> Path:
    """The newest PostgreSQL >= 15 server binaries Debian installed (or pg_config says)."""
    candidates: list[tuple[int, Path]] = []
    for path in glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        major = re.search(r"/postgresql/(\d+)/", path)
        if major:
            candidates.append((int(major.group(1)), Path(path).parent))
    pg_config = shutil.which("pg_config")
    if not candidates and pg_config:
        candidates.append((MIN_MAJOR, Path(pg_config).parent))
    usable = [c for c in candidates if c[0] >= MIN_MAJOR and (c[1] / "initdb").exists()]
    if not usable:
        raise StackError("postgres", "no PostgreSQL 15+ server binaries found", fix=APT_FIX)
    return max(usable)[1]


def _reachable_by(user: str, path: Path) -> bool:
    """Whether ``user`` may enter ``path`` and every existing directory above it."""
    uid = pwd.getpwnam(user).pw_uid
    for p in [path, *path.parents]:
        if not p.exists():
            continue
        st = p.stat()
        if st.st_uid == uid and st.st_mode & stat.S_IXUSR:
            continue
        if not st.st_mode & stat.S_IXOTH:
            return False
    return True


class Postgres(Component):
    name = "postgres"
    stop_signal = signal.SIGINT  # "fast shutdown": roll back open transactions, checkpoint
    port_variable = "ORION_STACK_POSTGRES_PORT"

    @cached_property
    def home(self) -> Path:
        """The cluster's directory; outside the stack directory if ``postgres`` cannot reach it.

        As root the server runs as ``postgres``, which must be able to enter every
        parent directory. A checkout under a private directory (a CI runner's
        ``mktemp -d``, a home directory with mode 700) would make initdb fail, so
        the cluster then lives under /var/lib/orion-stack, keyed by the stack
        directory, with a symlink from the usual place for people to find it.
        """
        usual = self.cfg.data_dir(self.name)
        if os.geteuid() != 0 or _reachable_by("postgres", usual.parent):
            return usual
        digest = hashlib.sha1(str(self.cfg.dir).encode(), usedforsecurity=False).hexdigest()[:12]
        home = Path("/var/lib/orion-stack") / digest / self.name
        usual.parent.mkdir(parents=True, exist_ok=True)
        if not usual.is_symlink():
            shutil.rmtree(usual, ignore_errors=True)
            usual.symlink_to(home)
        return home

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.home / "socket"

    def ports(self) -> list[int]:
        return [self.cfg.postgres_port]

    def endpoint(self) -> str:
        return f"{self.cfg.host}:{self.cfg.postgres_port}"

    def dsn(self, database: str) -> str:
        """The bootstrap superuser's URL (the registry's storage, setting up the roles)."""
        c = self.cfg
        return f"postgresql://{c.postgres_user}:{c.postgres_password}@{c.host}:{c.postgres_port}/{database}"

    def role_password(self, role: str) -> str:
        """``role``'s generated password (made on first use; URL-safe characters only)."""
        return secrets.read_or_create(self.cfg.dir, self.name, role)

    def role_dsn(self, role: str, database: str) -> str:
        """The URL ``role`` logs in with, as the endpoints file writes it."""
        c = self.cfg
        return (
            f"postgresql://{role}:{self.role_password(role)}@{c.host}:{c.postgres_port}/{database}"
        )

    def install(self) -> None:
        find_bindir()
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as e:
                raise StackError(
                    self.name, "running as root needs the `postgres` user", fix=APT_FIX
                ) from e

    def run_as(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def _own(self, path: Path) -> None:
        user = self.run_as()
        if user:
            shutil.chown(path, user=user, group=user)

    def initialise(self) -> None:
        self.home.parent.mkdir(parents=True, exist_ok=True)
        for d in (self.home, self.socket_dir):
            d.mkdir(parents=True, exist_ok=True)
            self._own(d)
        if (self.pgdata / "PG_VERSION").is_file():
            return
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)  # an initdb that was interrupted
        pwfile = self.home / ".pwfile"
        pwfile.write_text(self.cfg.postgres_password + "\n")
        self._own(pwfile)
        pwfile.chmod(0o600)
        argv = [
            str(find_bindir() / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            self.cfg.postgres_user,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
        if self.run_as():
            argv = ["runuser", "-u", "postgres", "--", *argv]
        try:
            run_step(
                self.name,
                argv,
                cwd=self.home,
                fix=f"make sure user `postgres` can reach {self.home} (every parent "
                "directory must be searchable), or set ORION_STACK_DIR elsewhere",
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def argv(self) -> list[str]:
        return [
            str(find_bindir() / "postgres"),
            "-D",
            str(self.pgdata),
            "-p",
            str(self.cfg.postgres_port),
            "-k",
            str(self.socket_dir),
            "-c",
            f"listen_addresses={self.cfg.host}",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "max_connections=200",
            "-c",
            "wal_level=replica",
            "-c",
            "max_wal_size=2GB",
            "-c",
            "log_min_messages=warning",
        ]

    def healthy(self) -> bool:
        try:
            conn = psycopg2.connect(self.dsn("postgres"), connect_timeout=2)
        except psycopg2.Error:
            return False
        conn.close()
        return True

    def purge(self) -> None:
        super().purge()
        shutil.rmtree(secrets.secrets_dir(self.cfg.dir, self.name), ignore_errors=True)

    def after_start(self) -> None:
        """Create the stack's databases and roles, under one cluster-wide lock.

        ``orion stack up`` runs this every time, also on a server that is
        already up, and so do several at once (each pytest-xdist worker brings
        the stack up): two concurrent ``ALTER ROLE`` of one role fail with
        ``tuple concurrently updated``, two ``CREATE DATABASE`` with a
        duplicate. The session-level advisory lock, held on the ``postgres``
        database until the roles and the migration are done, makes the
        callers take turns; the later ones find everything in place.
        """
        conn = psycopg2.connect(self.dsn("postgres"), connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(%s)", (SET_UP_LOCK,))
                for db in (self.cfg.warehouse_db, self.cfg.registry_db):
                    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
                    if cur.fetchone() is None:
                        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
            self._set_up_roles()
        finally:
            conn.close()  # ends the session, and with it the lock

    def _set_up_roles(self) -> None:
        """Give each role its login, then migrate the warehouse database as the superuser.

        The stack acts as the DBA: it creates a role 0010_roles.sql would
        create (NOLOGIN, when missing) so that its password can be set before
        any migration ran. Migrating the stack's own ``warehouse`` database
        here hands a database migrated before the roles existed over to
        ``orion_migrator``; a failure there (a migration edited after it was
        applied to this database) is logged, not fatal: the stack still
        starts, and `orion warehouse migrate` reports it.
        """
        from sinks.warehouse.exceptions import MigrationError
        from sinks.warehouse.migrations import migrate

        conn = psycopg2.connect(self.dsn(self.cfg.warehouse_db), connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for role in ROLES:
                    cur.execute("SELECT to_regrole(%s) IS NULL", (role,))
                    row = cur.fetchone()
                    if row is not None and row[0]:
                        cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
                for role in ROLES:
                    verifier = secrets.scram_verifier(self.role_password(role))
                    cur.execute(
                        sql.SQL("ALTER ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(role)),
                        (verifier,),
                    )
                cur.execute(sql.SQL("ALTER ROLE {} CREATEDB").format(sql.Identifier(MIGRATOR)))
                cur.execute(
                    sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(MIGRATOR))
                )
                cur.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                        sql.Identifier(self.cfg.warehouse_db), sql.Identifier(MIGRATOR)
                    )
                )
        finally:
            conn.close()
        try:
            migrate(self.dsn(self.cfg.warehouse_db))
        except MigrationError as e:
            log.warning(f"postgres: the stack's {self.cfg.warehouse_db} database: {e}")
