"""No secret is ever logged or printed, checked by grepping what a whole run left behind.

The secrets: every ``SecretStr`` of the settings (whole URLs and the
passwords inside them; a secret a later change adds is covered without
editing this test) and every file the stack generated under ``secrets/``.
The haystack: every file under the stack directory but its data, its
secrets and its endpoints file (service logs, Prometheus targets, pid
files), every file the shared demo run wrote (service logs, ledger, report),
the demo's progress lines, `orion stack status`, and the output of commands
that fail with a wrong credential while holding the right other one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from orion.settings import OrionSettings, secret_variables
from orionctl.stack.config import StackConfig
from orionctl.stack.secrets import all_secret_files
from tests.deploy.conftest import DemoRun

pytestmark = pytest.mark.integration

NOT_SEARCHED = {"data", "secrets", "env"}  # the stack's own stores of the secrets


def _secrets(settings: OrionSettings, stack: StackConfig) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in secret_variables(OrionSettings):
        value = getattr(settings, name)
        if value is None:
            continue
        text = value.get_secret_value()
        found[name] = text
        if "://" in text:
            password = make_url(text).password
            if password:
                found[f"{name} password"] = str(password)
    for path in all_secret_files(stack.dir):
        found[str(path.relative_to(stack.dir))] = path.read_text().strip()
    return found


def _run_all(commands: list[tuple[list[str], dict[str, str]]]) -> list[str]:
    """Each command's stdout and stderr; run side by side (each is mostly start-up time)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "orionctl", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **env},
        )
        for args, env in commands
    ]
    return [p.communicate(timeout=90)[0] for p in procs]


def _files(root: Path, skip: set[str]) -> list[Path]:
    """Every file under ``root`` but under its ``skip`` folders, which are never walked:
    Kafka deletes a removed topic's folders under ``data`` while the walk would run
    (FileNotFoundError in the fresh-clone CI run)."""
    out = []
    for top in sorted(root.iterdir()):
        if top.name in skip:
            continue
        if top.is_file():
            out.append(top)
        elif top.is_dir():
            out.extend(p for p in top.rglob("*") if p.is_file())
    return out


def test_no_secret_appears_in_any_log_or_output_of_a_run(
    demo_run: DemoRun, settings: OrionSettings, stack: StackConfig
) -> None:
    secrets = _secrets(settings, stack)
    roles = {f"secrets/postgres/{r}" for r in ("orion_migrator", "orion_loader", "orion_analyst")}
    assert roles <= set(secrets) and "s3_secret_key" in secrets
    assert all(len(v) >= 8 for v in secrets.values()), "too short to grep for"

    *failures, status = _run_all(
        [
            # The right secret key with an unknown access key: refused, the key not printed.
            (["sink", "s3", "--topics", "raw.none"], {"ORION_S3_ACCESS_KEY": "nobody-here"}),
            # The loader's right password towards a port nobody listens on.
            (
                ["sink", "warehouse", "--topics", demo_run.summary.prefix + "clean.erp.sales"],
                {
                    "ORION_LOADER_DATABASE_URL": make_url(settings.loader_login.dsn)
                    .set(port=1)
                    .render_as_string(hide_password=False),
                    "ORION_LOG_LEVEL": "DEBUG",
                    "ORION_TOPIC_PREFIX": demo_run.summary.prefix,
                },
            ),
            # An invalid URL holding the migrator's password.
            (
                ["warehouse", "status"],
                {"ORION_DATABASE_URL": settings.database_dsn.replace("/warehouse", "")},
            ),
            (["stack", "status"], {}),
        ]
    )
    assert "S3 refused the credentials" in failures[0]
    assert "did not answer" in failures[1] and "ORION_LOADER_DATABASE_URL" in failures[1]
    assert "ORION_DATABASE_URL" in failures[2]
    assert "postgres" in status

    texts = {
        "demo progress": "\n".join(demo_run.progress),
        "demo report": demo_run.report_text,
        "stack status": status,
        **{f"failure {i}": text for i, text in enumerate(failures)},
    }
    # The demo's services and reports ran under their own logins, not the owner's.
    assert "Revenue per financial year" in demo_run.report_text
    for name in ("sink-warehouse.log", "sink-dq.log"):
        (log,) = demo_run.workdir.rglob(name)
        assert "ORION_LOADER_DATABASE_URL is not set" not in log.read_text(), name
    files = _files(stack.dir, NOT_SEARCHED) + _files(demo_run.workdir, set())
    assert any(p.name == "sink-warehouse.log" for p in files), "the demo's service logs"
    assert any(p.name == "postgres.log" for p in files)
    leaks = []
    for path in files:
        data = path.read_bytes()
        leaks += [f"{name} in {path}" for name, v in secrets.items() if v.encode() in data]
    for where, text in texts.items():
        leaks += [f"{name} in {where}" for name, v in secrets.items() if v in text]
    print(f"searched {len(files)} files and {len(texts)} outputs for {len(secrets)} secrets")
    assert leaks == []


def test_the_demo_services_connect_as_their_own_roles(demo_run: DemoRun) -> None:
    assert ("orion_loader", "orion-warehouse") in demo_run.sessions, demo_run.sessions
    assert ("orion_loader", "orion-dq-sink") in demo_run.sessions, demo_run.sessions
    users = {u for u, a in demo_run.sessions if a.startswith("orion-")}
    assert users == {"orion_loader"}, demo_run.sessions
