"""Every DAG file imports in Airflow's own environment, with retries, timeouts and the callback."""

from __future__ import annotations

import json
import subprocess

import pytest

from orionctl.stack.airflow import DAGS_FOLDER, airflow_command, airflow_environment
from orionctl.stack.config import StackConfig

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

DAGS = {"bronze_lifecycle", "finance_report", "landing_ingest", "warehouse_backup",
        "warehouse_maintenance"}  # fmt: skip

SCRIPT = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=%r)
print(json.dumps({
    "errors": {k: v.splitlines()[-1] for k, v in bag.import_errors.items()},
    "dags": {
        d.dag_id: [
            {
                "task": t.task_id,
                "retries": t.retries,
                "backoff": t.retry_exponential_backoff,
                "timeout": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                "callback": bool(t.on_failure_callback),
            }
            for t in d.tasks
        ]
        for d in bag.dags.values()
    },
}))
"""


def test_every_dag_imports_with_retries_timeouts_and_the_failure_callback(
    airflow_stack: StackConfig,
) -> None:
    python = airflow_command(airflow_stack)[0]
    proc = subprocess.run(
        [python, "-c", SCRIPT % str(DAGS_FOLDER)],
        env=airflow_environment(airflow_stack),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    assert set(found["dags"]) == DAGS
    for dag, tasks in found["dags"].items():
        assert tasks, dag
        for t in tasks:
            assert t["retries"] >= 1 and t["backoff"] and t["callback"], (dag, t)
            assert t["timeout"] and t["timeout"] > 0, (dag, t)
