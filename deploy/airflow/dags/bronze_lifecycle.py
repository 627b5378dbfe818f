"""bronze_lifecycle: compact the bronze days that became old into archive/, then verify them.

Daily. For logical date D the cutoff is D minus ``retention_days``: every
bronze day before it is compacted (``orion archive --before ... --execute``),
so a run that was missed is caught up by the next one, and a run repeated
for the same D finds its days done. The second task checks every archived
day of the week before the cutoff against its manifest and bronze.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from orion_dags import default_args, orion, record_success


@dag(
    dag_id="bronze_lifecycle",
    schedule="30 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={"retention_days": 30},
    default_args=default_args(timedelta(hours=2)),
    tags=["orion", "s3"],
    doc_md=__doc__,
)
def bronze_lifecycle() -> None:
    @task
    def cutoff(logical_date: datetime | None = None, params: dict | None = None) -> str:
        assert logical_date is not None and params is not None
        return (logical_date.date() - timedelta(days=int(params["retention_days"]))).isoformat()

    @task
    def compact(before: str) -> str:
        return orion("archive", "--before", before, "--execute")

    @task
    def verify(before: str) -> str:
        return orion("archive", "--before", before, "--verify")

    @task
    def succeeded(logical_date: datetime | None = None) -> str:
        return record_success("bronze_lifecycle", logical_date)

    day = cutoff()
    compact(day) >> verify(day) >> succeeded()


bronze_lifecycle()
