"""`orion stack` through its own entry point: status, logs, and clear errors on bad input."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from orionctl.stack import manager
from orionctl.stack.config import StackConfig


def orion(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orionctl", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


@pytest.mark.integration
def test_status_lists_every_service_healthy(stack: StackConfig) -> None:
    result = orion("stack", "status", "--json", env={"ORION_STACK_DIR": str(stack.dir)})
    assert result.returncode == 0, result.stderr
    import json

    rows = json.loads(result.stdout)
    names = sorted(r["name"] for r in rows)
    # Plus the optional components (`up --with airflow`) this stack has enabled.
    assert names == sorted(c.name for c in manager.components(stack))
    assert {"kafka", "postgres", "prometheus", "registry", "s3"} <= set(names)
    assert all(r["healthy"] and r["pid"] for r in rows)


@pytest.mark.integration
def test_logs_shows_the_service_log_and_rejects_unknown_names(stack: StackConfig) -> None:
    result = orion("stack", "logs", "kafka", "-n", "3", env={"ORION_STACK_DIR": str(stack.dir)})
    assert result.returncode == 0
    log_lines = stack.log_file("kafka").read_text().splitlines()
    assert result.stdout.splitlines() == log_lines[-3:]
    bad = orion("stack", "logs", "zookeeper")
    assert bad.returncode == 1
    assert "zookeeper: no such component" in bad.stderr and "Traceback" not in bad.stderr


def test_port_in_use_names_the_component_and_the_variable(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = orion(
            "stack",
            "up",
            env={
                "ORION_STACK_DIR": str(tmp_path / "stack"),
                "ORION_STACK_POSTGRES_PORT": str(port),
            },
        )
    assert result.returncode == 1
    assert f"postgres: port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "ORION_STACK_POSTGRES_PORT" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "stack" / "env").exists()


def test_missing_toolchain_stops_with_the_fix(tmp_path: Path) -> None:
    # An empty cache forces installs; a PATH without java, mvn or go makes them impossible.
    result = orion(
        "stack",
        "up",
        env={
            "ORION_STACK_DIR": str(tmp_path / "stack"),
            "ORION_CACHE_DIR": str(tmp_path / "cache"),
            "PATH": str(Path(sys.executable).parent),
        },
    )
    assert result.returncode == 1
    assert "needs `java`" in result.stderr or "needs `go`" in result.stderr
    assert "fix:" in result.stderr and "Traceback" not in result.stderr


def test_invalid_port_configuration_is_refused_at_start_up() -> None:
    result = orion("stack", "status", env={"ORION_STACK_KAFKA_PORT": "80"})
    assert result.returncode == 1
    assert "ORION_STACK_KAFKA_PORT" in result.stderr and "Traceback" not in result.stderr
