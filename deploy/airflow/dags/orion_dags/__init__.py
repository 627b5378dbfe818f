"""What every Orion DAG shares: calling the project's ``orion`` command, retries, the failure line.

Tasks are thin: each runs one ``orion`` command of the project's own
environment (``ORION_BIN``, set by the stack; ``orion`` on PATH otherwise),
which reads the stack's endpoints and credentials the way every ``orion``
command does (``ORION_*`` variables, else ``$ORION_STACK_DIR/env``). So a
change of how the product connects to Kafka, PostgreSQL or S3 reaches the
DAGs without touching them, and Airflow's environment needs none of the
product's libraries.

Retry timing comes from ``ORION_DAG_RETRIES``, ``ORION_DAG_RETRY_DELAY_S`` and
``ORION_DAG_MAX_RETRY_DELAY_S`` (read when the DAG file is parsed), so a test
can run a failing DAG through its retries in seconds.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowException

log = logging.getLogger("orion.dags")

RUNBOOK = "docs/runbook.md#orionmaintenancedagnotsucceeding"


def orion_bin() -> str:
    found = os.environ.get("ORION_BIN") or shutil.which("orion")
    if not found:
        raise AirflowException(
            "the project's `orion` command is not found: "
            "set ORION_BIN to <checkout>/.venv/bin/orion"
        )
    return found


def orion(*args: str, timeout_s: float = 1800) -> str:
    """Run ``orion ARGS``; its output goes to the task log; a failure raises with its tail."""
    argv = [orion_bin(), *args]
    log.info("running %s", " ".join(argv))
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    for line in (proc.stdout + proc.stderr).splitlines():
        log.info("%s", line)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-10:])
        raise AirflowException(f"`orion {' '.join(args)}` exited {proc.returncode}:\n{tail}")
    return proc.stdout


def failure_log() -> Path:
    """One line per failed task, beside the stack's other logs."""
    return Path(os.environ.get("ORION_STACK_DIR", ".stack")) / "logs" / "airflow-failures.log"


def on_failure(context: Any) -> None:
    """Log one line saying what failed and where to look (task log, runbook)."""
    ti = context["ti"]
    logs = os.environ.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER", "$AIRFLOW_HOME/logs")
    error = context.get("exception")
    first = str(error).splitlines()[0] if error else "?"
    line = (
        f"ORION DAG FAILURE dag={ti.dag_id} task={ti.task_id} "
        f"logical_date={context.get('logical_date')} try={ti.try_number}: "
        f"see the task log (Airflow UI, or {logs}/dag_id={ti.dag_id}/) and {RUNBOOK}; "
        f"error: {first}"
    )
    log.error("%s", line)
    path = failure_log()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def default_args(execution_timeout: timedelta) -> dict[str, Any]:
    """Retries with exponential back-off, a timeout per task, the failure line."""
    return {
        "owner": "orion",
        "retries": int(os.environ.get("ORION_DAG_RETRIES", "3")),
        "retry_delay": timedelta(seconds=float(os.environ.get("ORION_DAG_RETRY_DELAY_S", "120"))),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(
            seconds=float(os.environ.get("ORION_DAG_MAX_RETRY_DELAY_S", "1800"))
        ),
        "execution_timeout": execution_timeout,
        "on_failure_callback": on_failure,
    }


def record_success(dag_id: str, logical_date: Any) -> str:
    """The final task of every DAG: its success time for Prometheus (orion dags record-success)."""
    return orion("dags", "record-success", dag_id, "--logical-date", logical_date.isoformat())
