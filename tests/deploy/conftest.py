"""One demo run shared by the tests that need a whole pipeline (dashboards, secret leaks).

A run costs about a minute on a 2-core machine; the dashboards' queries run
while it is live (``while_running``) and the secret-leak test greps what it
left behind, so both pay for one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest

from orion.settings import OrionSettings
from orionctl.demo import DemoSummary, run_demo
from orionctl.stack.config import StackConfig


@dataclass
class DemoRun:
    summary: DemoSummary
    report_text: str
    workdir: Path
    progress: list[str] = field(default_factory=list)
    missing_panels: list[str] = field(default_factory=list)
    #: (user, application) of every session on the demo's database while it ran
    sessions: set[tuple[str, str]] = field(default_factory=set)


@pytest.fixture(scope="session")
def demo_run(
    stack: StackConfig, settings: OrionSettings, tmp_path_factory: pytest.TempPathFactory
) -> DemoRun:
    from tests.deploy.test_grafana_dashboards import panels_without_data

    workdir = tmp_path_factory.mktemp("demo")
    progress: list[str] = []
    missing: list[str] = []

    sessions: set[tuple[str, str]] = set()

    def while_running(prefix: str, dsn: str) -> None:
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT usename, application_name FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            sessions.update((str(u), str(a)) for u, a in cur.fetchall())
        conn.close()
        missing.extend(panels_without_data(settings, prefix, dsn))

    summary, text = run_demo(
        settings, 3000, 7, workdir, report=progress.append, while_running=while_running
    )
    return DemoRun(summary, text, workdir, progress, missing, sessions)
