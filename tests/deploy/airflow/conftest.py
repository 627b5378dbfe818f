"""The stack with Airflow, and ``airflow`` commands against it.

Every test here is marked ``airflow``: ``make test`` runs them in its parallel
pass (it starts the stack with Airflow), ``make test-airflow`` runs only them. Airflow starts
slowly (about 15 s per ``airflow`` command on 2 cores), so each test runs
as few commands as it can. DAG runs get short retries through the
``ORION_DAG_*`` variables their DAG files read.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator

import psycopg2
import pytest
from psycopg2 import sql

from orion.database_url import with_database
from orion.settings import OrionSettings
from orionctl.stack import manager
from orionctl.stack.airflow import airflow_command, airflow_environment
from orionctl.stack.config import StackConfig
from sinks.warehouse.migrations import migrate
from tests.conftest import unique

#: Short retries, so a failing run ends within seconds.
FAST_RETRIES = {
    "ORION_DAG_RETRIES": "1",
    "ORION_DAG_RETRY_DELAY_S": "1",
    "ORION_DAG_MAX_RETRY_DELAY_S": "2",
}


@pytest.fixture(scope="session")
def airflow_stack(stack_config: StackConfig, settings: OrionSettings) -> StackConfig:
    """The stack with Airflow's services up (installed on first use), warehouse migrated."""
    started = time.monotonic()
    manager.up(stack_config, with_extras=("airflow",))
    migrate(settings.database_dsn)
    print(f"stack with airflow up in {time.monotonic() - started:.1f}s")
    return stack_config


AirflowRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def airflow(airflow_stack: StackConfig) -> AirflowRun:
    """``airflow ARGS`` with the stack's configuration; ``env`` overrides ORION_* for the tasks."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        full = airflow_environment(airflow_stack)
        full.update(FAST_RETRIES)
        full.update(env or {})
        started = time.monotonic()
        proc = subprocess.run(
            airflow_command(airflow_stack, *args),
            env=full,
            cwd=airflow_stack.data_dir("airflow"),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        print(f"airflow {' '.join(args[:3])}: exit {proc.returncode} in "
              f"{time.monotonic() - started:.1f}s")  # fmt: skip
        return proc

    return run


@pytest.fixture
def warehouse_db(settings: OrionSettings) -> Iterator[str]:
    """A fresh, migrated warehouse database of its own; its URL. Dropped after the test."""
    name = unique("af_")
    admin = psycopg2.connect(with_database(settings.database_dsn, "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = with_database(settings.database_dsn, name)
    migrate(dsn)
    yield dsn
    with admin.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()
