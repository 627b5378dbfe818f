"""Secrets from ``<VARIABLE>_FILE``, the role URLs' fallback, and secrets never printed.

Pure configuration logic: environment variables and files of a temporary
directory, no service.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from orion.exceptions import ConfigurationError
from orion.settings import (
    ENDPOINT_VARIABLES,
    OrionBaseSettings,
    OrionSettings,
    load_settings,
    load_stage_settings,
    secret_variables,
)
from tests.orion.test_settings import GOOD

SECRETS = secret_variables(OrionSettings)


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ENDPOINT_VARIABLES, *SECRETS.values()):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name + "_FILE", raising=False)
    for k, v in GOOD.items():
        monkeypatch.setenv(k, v)


def test_every_secret_field_is_a_secret_variable() -> None:
    assert {
        "ORION_DATABASE_URL",
        "ORION_LOADER_DATABASE_URL",
        "ORION_ANALYST_DATABASE_URL",
        "ORION_S3_SECRET_KEY",
        "ORION_SCHEMA_REGISTRY_PASSWORD",
    } <= set(SECRETS.values())


def test_a_secret_comes_from_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORION_S3_SECRET_KEY")
    (tmp_path / "s3").write_text("from-a-file\n")
    monkeypatch.setenv("ORION_S3_SECRET_KEY_FILE", str(tmp_path / "s3"))
    loader = "postgresql://orion_loader:l0ader@127.0.0.1:15432/other"
    (tmp_path / "loader").write_text(loader)
    monkeypatch.setenv("ORION_LOADER_DATABASE_URL_FILE", str(tmp_path / "loader"))
    s = load_settings(tmp_path)
    assert s.s3_secret_key.get_secret_value() == "from-a-file"
    assert s.loader_login.dsn == loader
    assert s.loader_login.variable == "ORION_LOADER_DATABASE_URL"
    assert "from-a-file" not in repr(s) and "l0ader" not in repr(s)


def test_a_file_beats_the_endpoints_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORION_S3_SECRET_KEY")
    (tmp_path / "env").write_text("ORION_S3_SECRET_KEY=from-the-stack\n")
    (tmp_path / "s3").write_text("from-a-file")
    monkeypatch.setenv("ORION_S3_SECRET_KEY_FILE", str(tmp_path / "s3"))
    assert load_settings(tmp_path).s3_secret_key.get_secret_value() == "from-a-file"


def test_both_the_variable_and_its_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "s3").write_text("x")
    monkeypatch.setenv("ORION_S3_SECRET_KEY_FILE", str(tmp_path / "s3"))
    with pytest.raises(
        ConfigurationError, match="both ORION_S3_SECRET_KEY and ORION_S3_SECRET_KEY_FILE"
    ):
        load_settings(tmp_path)


def test_an_unreadable_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORION_DATABASE_URL")
    missing = tmp_path / "no" / "such"
    monkeypatch.setenv("ORION_DATABASE_URL_FILE", str(missing))
    with pytest.raises(ConfigurationError) as e:
        load_settings(tmp_path)
    assert str(missing) in str(e.value) and "ORION_DATABASE_URL_FILE" in str(e.value)


def test_an_invalid_url_from_a_file_is_reported_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORION_DATABASE_URL")
    (tmp_path / "db").write_text("postgresql://orion:pa55word-xyz@127.0.0.1:5432")
    monkeypatch.setenv("ORION_DATABASE_URL_FILE", str(tmp_path / "db"))
    with pytest.raises(ConfigurationError) as e:
        load_settings(tmp_path)
    assert "ORION_DATABASE_URL" in str(e.value) and "pa55word-xyz" not in str(e.value)


def test_an_unset_role_url_falls_back_to_the_owner_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = load_settings(tmp_path)
    with caplog.at_level(logging.WARNING, logger="orion.settings"):
        login = s.analyst_login
    assert login == (GOOD["ORION_DATABASE_URL"], "ORION_DATABASE_URL")
    assert "ORION_ANALYST_DATABASE_URL is not set" in caplog.text
    assert "hunter2" not in caplog.text


def test_role_urls_of_the_stack_file_are_ignored_when_the_owner_url_is_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack_loader = "postgresql://orion_loader:x@127.0.0.1:15432/warehouse"
    (tmp_path / "env").write_text(f"ORION_LOADER_DATABASE_URL={stack_loader}\n")
    assert load_settings(tmp_path).loader_login.variable == "ORION_DATABASE_URL"
    monkeypatch.delenv("ORION_DATABASE_URL")
    (tmp_path / "env").write_text(
        f"ORION_LOADER_DATABASE_URL={stack_loader}\nORION_DATABASE_URL={GOOD['ORION_DATABASE_URL']}\n"
    )
    assert load_settings(tmp_path).loader_login == (stack_loader, "ORION_LOADER_DATABASE_URL")


def test_registry_credentials_are_optional_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORION_SCHEMA_REGISTRY_USERNAME", "svc")
    monkeypatch.setenv("ORION_SCHEMA_REGISTRY_PASSWORD", "reg-pass-123")
    s = OrionSettings()  # type: ignore[call-arg]
    assert s.registry_auth == ("svc", "reg-pass-123")
    assert "reg-pass-123" not in repr(s)


class _StageWithSecret(OrionBaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORION_TESTSTAGE_", extra="ignore")
    token: SecretStr | None = None


def test_a_stage_secret_comes_from_its_file_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "token").write_text("stage-token\n")
    monkeypatch.setenv("ORION_TESTSTAGE_TOKEN_FILE", str(tmp_path / "token"))
    stage = load_stage_settings(_StageWithSecret)
    assert stage.token is not None and stage.token.get_secret_value() == "stage-token"


def test_every_stage_settings_class_reads_secret_files() -> None:
    from producers.configuration import ProducerSettings
    from producers.landing.configuration import IngestConfig
    from sinks.dq.configuration import DqSinkConfig
    from sinks.s3.configuration import S3SinkConfig
    from sinks.silver.configuration import SilverSinkConfig
    from sinks.warehouse.configuration import WarehouseSinkConfig
    from stream_processors.configuration import ProcessorConfig

    for cls in (ProducerSettings, IngestConfig, DqSinkConfig, S3SinkConfig, SilverSinkConfig,
                WarehouseSinkConfig, ProcessorConfig):  # fmt: skip
        assert issubclass(cls, OrionBaseSettings), cls.__name__
