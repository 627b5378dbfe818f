"""The Airflow component's wiring, without starting it: cache key, configuration, extras."""

from __future__ import annotations

from pathlib import Path

import pytest

from orion.exceptions import StackError
from orionctl.stack import manager
from orionctl.stack.airflow import (
    AIRFLOW_VERSION,
    DAGS_FOLDER,
    LOCK_FILE,
    AirflowApiServer,
    AirflowScheduler,
    airflow_environment,
    airflow_venv,
    lock_digest,
)
from orionctl.stack.config import StackConfig


def _cfg(tmp_path: Path) -> StackConfig:
    return StackConfig(dir=tmp_path / "stack", cache_dir=tmp_path / "cache")


def test_venv_is_keyed_by_version_and_lock_file(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    assert airflow_venv(cfg) == cfg.cache_dir / f"airflow-{AIRFLOW_VERSION}-{lock_digest()}"
    pins = [ln for ln in LOCK_FILE.read_text().splitlines() if ln and not ln.startswith("#")]
    assert f"apache-airflow=={AIRFLOW_VERSION}" in pins
    assert all("==" in ln for ln in pins), "every line of the lock file pins one version"


def test_environment_points_airflow_at_the_stack(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    env = airflow_environment(cfg)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(
        f"@{cfg.host}:{cfg.postgres_port}/airflow"
    )
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS_FOLDER)
    assert env["ORION_STACK_DIR"] == str(cfg.dir)
    assert Path(env["ORION_BIN"]).name == "orion"
    assert env["AIRFLOW__API__PORT"] == str(cfg.airflow_api_port)


def test_airflow_processes_are_told_apart_by_their_environment(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    api, scheduler = AirflowApiServer(cfg), AirflowScheduler(cfg)
    assert api.process.marker_in_environ and scheduler.process.marker_in_environ
    assert api.process.marker != scheduler.process.marker
    env = api.environment()
    assert env is not None and env["SPT_NOENV"] == "1"
    assert f"ORION_STACK_SERVICE={env['ORION_STACK_SERVICE']} " == api.process.marker
    assert scheduler.requires == ("postgres", "airflow-api-server")


def test_extras_are_remembered_and_unknown_ones_refused(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    assert manager.enabled_extras(cfg) == ()
    assert "airflow-api-server" not in [c.name for c in manager.components(cfg)]
    cfg.dir.mkdir(parents=True)
    cfg.extras_file.write_text("airflow\nnonsense\n")
    assert manager.enabled_extras(cfg) == ("airflow",)
    names = [c.name for c in manager.components(cfg)]
    assert names[-4:] == [
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "dag-exporter",
    ]
    with pytest.raises(StackError, match="no such optional component"):
        manager.up(cfg, with_extras=("spark",))
