"""finance_report: at month end, every report question to S3 as JSON and CSV for finance.

Runs on the first day of each month, when the month before has closed, and
files the report under that month: ``reports/finance/<YYYY-MM>/report.json``
and ``report.csv``. A rerun for the same month writes the same keys again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from orion_dags import default_args, orion, record_success


@dag(
    dag_id="finance_report",
    schedule="0 6 1 * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={"prefix": "s3:///reports/finance", "rows": 1000},
    default_args=default_args(timedelta(minutes=30)),
    tags=["orion", "finance", "s3"],
    doc_md=__doc__,
)
def finance_report() -> None:
    @task
    def month(logical_date: datetime | None = None) -> str:
        assert logical_date is not None
        closed = logical_date.replace(day=1) - timedelta(days=1)
        return closed.strftime("%Y-%m")

    @task
    def write(closed: str, fmt: str, params: dict | None = None) -> str:
        assert params is not None
        url = f"{str(params['prefix']).rstrip('/')}/{closed}/report.{fmt}"
        return orion("report", "--format", fmt, "--limit", str(params["rows"]), "--to-s3", url)

    @task
    def succeeded(logical_date: datetime | None = None) -> str:
        return record_success("finance_report", logical_date)

    closed = month()
    [write(closed, "json"), write(closed, "csv")] >> succeeded()


finance_report()
