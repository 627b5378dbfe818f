"""docker-compose.yml agrees with the code: commands, ports and ORION_* variables.

There is no Docker engine here, so the file is checked statically against
what the CLI offers and what the settings read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
import yaml

from orion.settings import ENDPOINT_VARIABLES, OrionSettings
from orionctl.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
ORION_ENV: dict[str, str] = COMPOSE["x-orion-env"]

# Port each backing service listens on inside its container.
CONTAINER_PORTS = {
    "kafka": 9092,
    "postgres": 5432,
    "registry": 8080,
    "s3": 7070,
    "prometheus": 9090,
}


def _product_services() -> dict[str, Any]:
    return {
        name: svc
        for name, svc in SERVICES.items()
        if svc.get("build", {}).get("dockerfile") == "deploy/Dockerfile"
    }


def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def _command_exists(argv: list[str]) -> bool:
    command: Any = typer.main.get_command(app)
    for word in argv:
        if word.startswith("-") or not _is_group(command):
            break
        sub = command.get_command(None, word)
        if sub is None:
            return False
        command = sub
    return not _is_group(command)


def test_shared_environment_is_exactly_the_endpoint_variables() -> None:
    # Compose runs Kafka in plaintext, chosen explicitly: no SASL login, no CA.
    assert ORION_ENV["ORION_KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT"
    tls_only = {"ORION_KAFKA_SASL_USERNAME", "ORION_KAFKA_SASL_PASSWORD", "ORION_KAFKA_CA_FILE"}
    assert sorted(ORION_ENV) == sorted(set(ENDPOINT_VARIABLES) - tls_only)
    known = {f"ORION_{name.upper()}" for name in OrionSettings.model_fields}
    assert set(ORION_ENV) <= known


@pytest.mark.parametrize(
    "variable", [v for v in ENDPOINT_VARIABLES if v.endswith(("_URL", "_ENDPOINT", "_BOOTSTRAP"))]
)
def test_endpoint_variables_point_at_a_compose_service_port(variable: str) -> None:
    value = ORION_ENV[variable]
    parts = urlsplit(value if "://" in value else f"tcp://{value}")
    assert parts.hostname in SERVICES, f"{variable} names unknown host {parts.hostname}"
    assert parts.port == CONTAINER_PORTS[parts.hostname], variable


def test_backing_services_listen_where_the_variables_say() -> None:
    assert "PLAINTEXT://:9092" in SERVICES["kafka"]["environment"]["KAFKA_LISTENERS"]
    assert SERVICES["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert SERVICES["s3"]["command"][:2] == ["--port", ":7070"]
    s3_env = SERVICES["s3"]["environment"]
    assert (s3_env["ROOT_ACCESS_KEY"], s3_env["ROOT_SECRET_KEY"]) == (
        ORION_ENV["ORION_S3_ACCESS_KEY"],
        ORION_ENV["ORION_S3_SECRET_KEY"],
    )
    pg = SERVICES["postgres"]["environment"]
    roles = (ROOT / "deploy/postgres/init/02-roles.sql").read_text()
    for variable in (
        "ORION_DATABASE_URL",
        "ORION_LOADER_DATABASE_URL",
        "ORION_ANALYST_DATABASE_URL",
    ):
        dsn = urlsplit(ORION_ENV[variable])
        assert dsn.path.strip("/") == pg["POSTGRES_DB"], variable
        assert f"CREATE ROLE {dsn.username} LOGIN" in roles, variable
        assert f"PASSWORD '{dsn.password}'" in roles, variable
    assert "registry" in SERVICES["registry"]["environment"]["APICURIO_DATASOURCE_URL"]
    assert (
        "CREATE DATABASE registry;"
        in (ROOT / "deploy/postgres/init/01-registry-database.sql").read_text()
    )


def test_dependencies_exist_and_long_running_services_have_healthchecks() -> None:
    for name, svc in SERVICES.items():
        for dep, cond in svc.get("depends_on", {}).items():
            assert dep in SERVICES, f"{name} depends on unknown {dep}"
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dep], (
                    f"{name} waits for {dep}'s missing healthcheck"
                )
    for name in ("kafka", "postgres", "registry", "prometheus"):
        assert "healthcheck" in SERVICES[name], name


def test_mounted_files_exist() -> None:
    for svc in SERVICES.values():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


def test_product_services_run_real_commands_with_the_shared_environment() -> None:
    for name, svc in _product_services().items():
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile", name
        assert _command_exists(svc["command"]), (
            f"{name}: `orion {' '.join(svc['command'])}` does not exist"
        )
        env = svc.get("environment", {})
        for variable in ORION_ENV:
            assert env.get(variable) == ORION_ENV[variable], f"{name} lacks {variable}"
        known = {f"ORION_{field.upper()}" for field in OrionSettings.model_fields}
        assert {v for v in env if v.startswith("ORION_")} <= known, name


def test_long_running_product_services_are_scraped_on_their_metrics_port() -> None:
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    (orion_job,) = [j for j in prometheus["scrape_configs"] if j["job_name"] == "orion"]
    targets = {t for group in orion_job["static_configs"] for t in group["targets"]}
    long_running = {n for n, s in _product_services().items() if s.get("restart") != "no"}
    assert long_running, "compose runs no product service"
    for name in long_running:
        env = SERVICES[name]["environment"]
        assert f"{name}:{env['ORION_METRICS_PORT']}" in targets, name
        assert env["ORION_METRICS_HOST"] == "0.0.0.0"  # noqa: S104 - containers must listen beyond loopback


def test_command_lookup_detects_unknown_commands() -> None:
    assert _command_exists(["stack", "status"])
    assert not _command_exists(["stack", "explode"])
    assert not _command_exists(["stack"])


def test_airflow_services_run_airflow_commands_on_the_product_environment() -> None:
    airflow = {n: s for n, s in SERVICES.items() if n.startswith("airflow-")}
    assert set(airflow) == {
        "airflow-init",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
    }
    for name, svc in airflow.items():
        assert svc["build"]["dockerfile"] == "deploy/airflow/Dockerfile", name
        assert svc["command"][0] in {"db", "api-server", "scheduler", "dag-processor"}, name
        env = svc["environment"]
        for variable in ORION_ENV:
            assert env.get(variable) == ORION_ENV[variable], f"{name} lacks {variable}"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
    assert (
        "CREATE DATABASE airflow;"
        in (ROOT / "deploy/postgres/init/02-airflow-database.sql").read_text()
    )
