"""Every Grafana panel query returns data: PromQL from the real Prometheus while a real
pipeline runs, SQL from the real warehouse it loaded. There is no Grafana server here,
so the panels' own queries are run directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import pytest

from orion.database_url import database_of, with_database
from orion.settings import OrionSettings
from tests.deploy.conftest import DemoRun

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))


def _targets() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                out.append((path.name, panel["title"], target))
    return out


def test_dashboards_are_well_formed_and_use_provisioned_datasources() -> None:
    provisioned = (ROOT / "deploy/grafana/provisioning/datasources/datasources.yml").read_text()
    assert len(DASHBOARDS) == 2
    uids = set()
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"] not in uids
        uids.add(dashboard["uid"])
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)), path.name
    for _, title, target in _targets():
        assert f"uid: {target['datasource']['uid']}" in provisioned, title
        assert target.get("expr") or target.get("rawSql"), title


def panels_without_data(settings: OrionSettings, prefix: str, dsn: str) -> list[str]:
    """The panels whose query returns nothing while the demo's pipeline runs."""
    missing: list[str] = []
    analyst = with_database(settings.analyst_login.dsn, database_of(dsn))
    # Bounded producer runs leave no live series: keep one producing while we look.
    env = {**os.environ, "ORION_TOPIC_PREFIX": prefix, "ORION_DATABASE_URL": dsn}
    producer = subprocess.Popen(
        [sys.executable, "-m", "orionctl", "produce", "--rate", "200", "--seed", "8"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(15)  # a few scrapes, so rate() windows hold two samples
        for name, title, target in _targets():
            if "expr" in target:
                if not _prom_has_data(settings.prometheus_url, target["expr"]):
                    missing.append(f"{name}: {title}: {target['expr']}")
            else:  # as Grafana's login, the analyst
                with psycopg2.connect(analyst) as conn, conn.cursor() as cur:
                    cur.execute(target["rawSql"])
                    if not cur.fetchall():
                        missing.append(f"{name}: {title}: no rows")
    finally:
        producer.terminate()
        producer.wait(30)
    return missing


def _prom_has_data(url: str, expr: str, timeout_s: float = 45.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        resp = httpx.get(url + "/api/v1/query", params={"query": expr}, timeout=10)
        resp.raise_for_status()
        if resp.json()["data"]["result"]:
            return True
        time.sleep(2)
    return False


@pytest.mark.integration
def test_every_panel_returns_data_while_the_pipeline_runs(demo_run: DemoRun) -> None:
    assert demo_run.missing_panels == []
