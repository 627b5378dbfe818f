"""Apache Airflow as optional stack services: api-server, scheduler, dag-processor.

Enabled by ``orion stack up --with airflow``. Airflow pins hundreds of
packages of its own, so it lives in a virtual environment of its own, never
in the project's: built once from the lock file ``deploy/airflow/requirements.txt``
into the download cache (keyed by Airflow's version and the lock file's hash,
built in a temporary sibling and renamed into place, see :mod:`orionctl.stack.install`).
A venv that was renamed keeps working through ``python -m airflow`` (its
scripts' ``#!`` lines name the temporary path, so they are not used).

Metadata lives in the database ``airflow`` of the stack's PostgreSQL; tasks
run on the LocalExecutor and call the project's own ``orion`` command, which
reads the stack's endpoints file like any other ``orion`` command.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import httpx
import psycopg2
from psycopg2 import sql

from orion.exceptions import StackError
from orionctl.stack.component import Component
from orionctl.stack.config import StackConfig
from orionctl.stack.install import cached_install, run_step
from orionctl.stack.postgres import Postgres
from orionctl.stack.process import ManagedProcess

AIRFLOW_VERSION = "3.3.2"
REPO_ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = REPO_ROOT / "deploy" / "airflow" / "requirements.txt"
DAGS_FOLDER = REPO_ROOT / "deploy" / "airflow" / "dags"
#: Shared by the api-server (which signs task tokens) and the scheduler; loopback only.
JWT_SECRET = "orion-local-airflow-jwt"  # noqa: S105 - loopback-only development stack
MIGRATE_TIMEOUT_S = 600
#: The environment variable that identifies an Airflow process of this stack.
MARKER_VARIABLE = "ORION_STACK_SERVICE"


def lock_digest() -> str:
    return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()[:12]


def airflow_venv(cfg: StackConfig) -> Path:
    """The cached venv of this Airflow version and lock file."""
    return cfg.cache_dir / f"airflow-{AIRFLOW_VERSION}-{lock_digest()}"


def install_airflow(cfg: StackConfig) -> Path:
    """Build (first use) or reuse the Airflow venv; pip's cache sits beside it."""
    if not LOCK_FILE.is_file():
        raise StackError("airflow", f"no lock file at {LOCK_FILE}", fix="restore it from git")

    def build(tmp: Path) -> None:
        fix = f"check that PyPI is reachable; the log above says which package failed ({tmp})"
        run_step("airflow", [sys.executable, "-m", "venv", str(tmp)], cwd=tmp.parent, fix=fix)
        run_step(
            "airflow",
            [
                str(tmp / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",  # the lock file is the whole resolved set
                "--cache-dir",
                str(cfg.cache_dir / "pip"),
                "-r",
                str(LOCK_FILE),
            ],
            cwd=tmp.parent,
            fix=fix,
        )

    return cached_install(airflow_venv(cfg), build, component="airflow")


def airflow_environment(cfg: StackConfig) -> dict[str, str]:
    """Airflow's whole configuration, as ``AIRFLOW__*`` variables (no airflow.cfg to edit)."""
    pg = Postgres(cfg)
    dsn = pg.dsn(cfg.airflow_db).replace("postgresql://", "postgresql+psycopg2://", 1)
    api = f"http://{cfg.host}:{cfg.airflow_api_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(
        {
            "AIRFLOW_HOME": str(cfg.data_dir("airflow")),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            # The DAGs' shared module (deploy/airflow/dags/orion_dags/) imports by name.
            "PYTHONPATH": str(DAGS_FOLDER),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": dsn,
            "AIRFLOW__API__HOST": cfg.host,
            "AIRFLOW__API__PORT": str(cfg.airflow_api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": JWT_SECRET,
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": cfg.host,
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(
                cfg.airflow_scheduler_port
            ),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(cfg.dir / "logs" / "airflow-tasks"),
            # What the DAGs' tasks run: the project's own command, on this stack.
            "ORION_HOME": str(REPO_ROOT),
            "ORION_BIN": str(Path(sys.executable).parent / "orion"),
            "ORION_STACK_DIR": str(cfg.dir),
        }
    )
    return env


def airflow_command(cfg: StackConfig, *args: str) -> list[str]:
    """``python -m airflow ARGS`` of the cached venv (installed on first use)."""
    return [str(install_airflow(cfg) / "bin" / "python"), "-m", "airflow", *args]


def ensure_database(cfg: StackConfig) -> bool:
    """Create the ``airflow`` database when missing; True if it was created."""
    conn = psycopg2.connect(Postgres(cfg).dsn("postgres"), connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (cfg.airflow_db,))
            if cur.fetchone() is not None:
                return False
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg.airflow_db)))
            return True
    finally:
        conn.close()


def migrate_metadata(cfg: StackConfig) -> None:
    """``airflow db migrate`` once per database and Airflow version (a marker remembers)."""
    home = cfg.data_dir("airflow")
    home.mkdir(parents=True, exist_ok=True)
    marker = home / f".migrated-{AIRFLOW_VERSION}"
    if ensure_database(cfg):
        marker.unlink(missing_ok=True)
    if marker.is_file():
        return
    try:
        proc = subprocess.run(
            airflow_command(cfg, "db", "migrate"),
            env=airflow_environment(cfg),
            cwd=home,
            capture_output=True,
            text=True,
            timeout=MIGRATE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise StackError(
            "airflow", f"`airflow db migrate` took over {MIGRATE_TIMEOUT_S}s", fix="see postgres"
        ) from e
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise StackError("airflow", f"`airflow db migrate` failed:\n{tail}", fix="see above")
    marker.write_text("ok\n")


class AirflowService(Component):
    """One Airflow process; they share the venv, the configuration and the metadata DB."""

    #: The ``airflow`` sub-command this service runs.
    command: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ("postgres",)
    stop_timeout_s = 45.0
    port_variable = "ORION_STACK_AIRFLOW_API_PORT"

    @cached_property
    def home(self) -> Path:
        # One AIRFLOW_HOME for every Airflow process.
        return self.cfg.data_dir("airflow")

    @property
    def process(self) -> ManagedProcess:
        # Airflow rewrites its command line (setproctitle), so the marker that tells
        # our process from a stranger is a variable of its environment, which
        # SPT_NOENV keeps setproctitle from overwriting.
        return ManagedProcess(
            name=self.name,
            pid_file=self.cfg.pid_file(self.name),
            log_file=self.cfg.log_file(self.name),
            marker=f"{MARKER_VARIABLE}={self.home}/{self.name} ",
            marker_in_environ=True,
        )

    def install(self) -> None:
        install_airflow(self.cfg)

    def initialise(self) -> None:
        migrate_metadata(self.cfg)

    def environment(self) -> dict[str, str] | None:
        env = airflow_environment(self.cfg)
        env[MARKER_VARIABLE] = f"{self.home}/{self.name}"
        env["SPT_NOENV"] = "1"
        return env

    def argv(self) -> list[str]:
        return airflow_command(self.cfg, self.command)

    def ports(self) -> list[int]:
        return []

    def endpoint(self) -> str:
        return "-"

    def _health(self) -> dict[str, object] | None:
        """The api-server's view of every Airflow component's heartbeat."""
        url = f"http://{self.cfg.host}:{self.cfg.airflow_api_port}/api/v2/monitor/health"
        try:
            resp = httpx.get(url, timeout=3)
        except httpx.HTTPError:
            return None
        if resp.status_code != 200:
            return None
        body: dict[str, object] = resp.json()
        return body

    def _component_healthy(self, key: str) -> bool:
        health = self._health()
        part = health.get(key) if health else None
        return isinstance(part, dict) and part.get("status") == "healthy"


class AirflowApiServer(AirflowService):
    name = "airflow-api-server"
    command = "api-server"

    def ports(self) -> list[int]:
        return [self.cfg.airflow_api_port]

    def endpoint(self) -> str:
        return f"http://{self.cfg.host}:{self.cfg.airflow_api_port}"

    def healthy(self) -> bool:
        return self._component_healthy("metadatabase")


class AirflowScheduler(AirflowService):
    name = "airflow-scheduler"
    command = "scheduler"
    requires = ("postgres", "airflow-api-server")
    port_variable = "ORION_STACK_AIRFLOW_SCHEDULER_PORT"

    def initialise(self) -> None:
        return None  # the api-server migrated the metadata before it started

    def ports(self) -> list[int]:
        return [self.cfg.airflow_scheduler_port]

    def endpoint(self) -> str:
        return f"http://{self.cfg.host}:{self.cfg.airflow_scheduler_port}/health"

    def healthy(self) -> bool:
        try:
            return httpx.get(self.endpoint(), timeout=3).status_code == 200
        except httpx.HTTPError:
            return False


class AirflowDagProcessor(AirflowService):
    name = "airflow-dag-processor"
    command = "dag-processor"
    requires = ("postgres", "airflow-api-server")

    def initialise(self) -> None:
        return None

    def endpoint(self) -> str:
        return str(DAGS_FOLDER)

    def healthy(self) -> bool:
        return self._component_healthy("dag_processor")


class DagExporter(Component):
    """``orion dags last-success --serve``: each DAG's last success as a Prometheus gauge."""

    name = "dag-exporter"
    requires = ("postgres",)
    port_variable = "ORION_STACK_AIRFLOW_EXPORTER_PORT"

    def ports(self) -> list[int]:
        return [self.cfg.airflow_exporter_port]

    def endpoint(self) -> str:
        return f"http://{self.cfg.host}:{self.cfg.airflow_exporter_port}/metrics"

    def install(self) -> None:
        return None

    def initialise(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)

    def environment(self) -> dict[str, str] | None:
        from orionctl.stack.manager import endpoints  # the manager imports this module

        env = dict(os.environ)
        # The endpoints file is written once the whole stack is up; this starts before.
        env.update(endpoints(self.cfg))
        env.update(
            {
                "ORION_STACK_DIR": str(self.cfg.dir),
                "ORION_METRICS_HOST": self.cfg.host,
                "ORION_METRICS_PORT": str(self.cfg.airflow_exporter_port),
            }
        )
        return env

    def argv(self) -> list[str]:
        orion = str(Path(sys.executable).parent / "orion")
        # The home path is the process marker (see Component.process).
        return [orion, "dags", "last-success", "--serve", "--marker", str(self.home)]

    def healthy(self) -> bool:
        url = f"http://{self.cfg.host}:{self.cfg.airflow_exporter_port}/readyz"
        try:
            return httpx.get(url, timeout=3).status_code == 200
        except httpx.HTTPError:
            return False


def airflow_components(cfg: StackConfig) -> list[Component]:
    """What ``--with airflow`` adds, in start order."""
    return [
        AirflowApiServer(cfg),
        AirflowScheduler(cfg),
        AirflowDagProcessor(cfg),
        DagExporter(cfg),
    ]
