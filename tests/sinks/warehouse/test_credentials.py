"""A refused PostgreSQL login, against the stack's real server: named, never printed.

Both through the library (the error type and message) and through the
command a new user would run (`orion report`, `orion sink warehouse`).
"""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy.engine import make_url

from orion.settings import OrionSettings
from sinks.warehouse.db import connect
from sinks.warehouse.exceptions import CredentialsRefusedError
from tests.warehouse_sql.support import cli_entry

pytestmark = pytest.mark.integration

WRONG = "wrong-password-4711"


def _with_password(dsn: str, password: str) -> str:
    return make_url(dsn).set(password=password).render_as_string(hide_password=False)


def test_a_wrong_password_is_a_refused_credential_naming_the_variable(
    settings: OrionSettings,
) -> None:
    login = settings.loader_login
    with pytest.raises(CredentialsRefusedError) as e:
        connect(_with_password(login.dsn, WRONG), variable=login.variable)
    text = str(e.value)
    assert "refused the credentials of user 'orion_loader'" in text
    assert "ORION_LOADER_DATABASE_URL" in text and WRONG not in text
    assert "did not answer" not in text


@pytest.mark.parametrize(
    ("command", "variable"),
    [
        (["report", "--question", "revenue_by_year"], "ORION_ANALYST_DATABASE_URL"),
        (["warehouse", "status"], "ORION_DATABASE_URL"),
    ],
)
def test_the_command_says_which_login_was_refused(
    settings: OrionSettings, command: list[str], variable: str
) -> None:
    dsn = {
        "ORION_ANALYST_DATABASE_URL": settings.analyst_login.dsn,
        "ORION_DATABASE_URL": settings.database_dsn,
    }[variable]
    env = {**os.environ, **settings.database_env("warehouse"), variable: _with_password(dsn, WRONG)}
    result = subprocess.run(
        [*cli_entry(), *command], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 1
    assert "refused the credentials" in result.stderr and variable in result.stderr, result.stderr
    assert WRONG not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
