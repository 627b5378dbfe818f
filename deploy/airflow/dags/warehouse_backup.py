"""warehouse_backup: a backup to S3, then a restore into a scratch database and a checksum match.

Nightly. The dump and the checksums of every warehouse table are taken in
one snapshot and stored under ``backups/warehouse/<logical date>.dump``; a run
repeated for the same date keeps the backup it finds. The second task
restores it into a scratch database on the same server and compares every
table's row count and checksum, so a backup is known good, not assumed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from orion_dags import default_args, orion, record_success


@dag(
    dag_id="warehouse_backup",
    schedule="0 1 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={"prefix": "s3:///backups/warehouse"},
    default_args=default_args(timedelta(hours=2)),
    tags=["orion", "warehouse", "s3"],
    doc_md=__doc__,
)
def warehouse_backup() -> None:
    @task
    def target(ds: str | None = None, params: dict | None = None) -> str:
        assert ds is not None and params is not None
        return f"{str(params['prefix']).rstrip('/')}/{ds}.dump"

    @task
    def backup(url: str) -> str:
        return orion("warehouse", "backup", "--to-s3", url)

    @task
    def verify(url: str) -> str:
        return orion("warehouse", "verify", url)

    @task
    def succeeded(logical_date: datetime | None = None) -> str:
        return record_success("warehouse_backup", logical_date)

    url = target()
    backup(url) >> verify(url) >> succeeded()


warehouse_backup()
