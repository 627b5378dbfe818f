"""landing_ingest: wait for files under landing/, ingest them, check each one was decided.

Every 15 minutes. The sensor asks ``orion ingest pending`` (in reschedule
mode, so a waiting sensor holds no worker slot); ``orion ingest files`` then
publishes every file there (exit 1, and a retry, when one had to be left,
e.g. Kafka down); the check fails unless every file the sensor saw moved to
processed/ or rejected/. A file read twice adds no event (its rows' ids
come from its SHA-256), so a retried or repeated run is harmless.

Not deferrable: the Amazon provider's deferrable S3 sensor would need an
S3 connection of its own beside the product's settings, and the provider
with its dependencies; reschedule mode frees the slot as well.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from airflow.sdk import PokeReturnValue, dag, task
from orion_dags import default_args, orion, record_success


@dag(
    dag_id="landing_ingest",
    schedule="*/15 * * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(timedelta(minutes=30)),
    tags=["orion", "files"],
    doc_md=__doc__,
)
def landing_ingest() -> None:
    @task.sensor(poke_interval=60, timeout=14 * 60, mode="reschedule", soft_fail=True)
    def new_files() -> PokeReturnValue:
        keys = json.loads(orion("ingest", "pending", "--json"))
        return PokeReturnValue(is_done=bool(keys), xcom_value=keys)

    @task
    def ingest() -> str:
        return orion("ingest", "files")

    @task
    def check(keys: list[str]) -> str:
        return orion("ingest", "check", *keys)

    # A quiet quarter hour (the sensor timed out, soft-failed: skipped) is a success too.
    @task(trigger_rule="none_failed")
    def succeeded(logical_date: datetime | None = None) -> str:
        return record_success("landing_ingest", logical_date)

    keys = new_files()
    keys >> ingest() >> check(keys) >> succeeded()


landing_ingest()
