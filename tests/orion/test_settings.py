"""Settings: read from the environment or the endpoints file, validated with clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from orion.exceptions import ConfigurationError
from orion.settings import ENDPOINT_VARIABLES, load_settings

GOOD = {
    "ORION_KAFKA_BOOTSTRAP": "127.0.0.1:19092",
    "ORION_SCHEMA_REGISTRY_URL": "http://127.0.0.1:18081/apis/ccompat/v7",
    "ORION_DATABASE_URL": "postgresql://orion:hunter2@127.0.0.1:15432/warehouse",
    "ORION_S3_ENDPOINT": "http://127.0.0.1:17070",
    "ORION_S3_ACCESS_KEY": "orion",
    "ORION_S3_SECRET_KEY": "s3cret-value",
    "ORION_S3_BUCKET": "orion-bronze",
    "ORION_PROMETHEUS_URL": "http://127.0.0.1:19090",
    "ORION_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_endpoints_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "env").write_text("".join(f"{k}={v}\n" for k, v in GOOD.items()))
    monkeypatch.setenv("ORION_S3_BUCKET", "from-environment")
    s = load_settings(tmp_path)
    assert s.kafka_bootstrap == "127.0.0.1:19092"
    assert s.s3_bucket == "from-environment"
    assert s.database_dsn.endswith("/warehouse")


def test_secrets_are_masked_when_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in GOOD.items():
        monkeypatch.setenv(k, v)
    text = repr(load_settings(tmp_path))
    assert "s3cret-value" not in text and "hunter2" not in text


def test_missing_variables_are_all_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORION_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    with pytest.raises(ConfigurationError) as e:
        load_settings(tmp_path)
    message = str(e.value)
    optional = {"ORION_LOADER_DATABASE_URL", "ORION_ANALYST_DATABASE_URL"}  # fall back
    for name in ENDPOINT_VARIABLES[1:]:
        if name.startswith("ORION_KAFKA_"):  # the security settings have defaults
            continue
        assert (f"{name} is not set" in message) is (name not in optional), name
    assert "orion stack up" in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ORION_KAFKA_BOOTSTRAP", "localhost", "host:port"),
        ("ORION_DATABASE_URL", "mysql://x@h/db", "libpq URL"),
        ("ORION_DATABASE_URL", "postgresql://x@h:5432", "name a database"),
        ("ORION_S3_BUCKET", "Bad_Bucket", "not a valid S3 bucket name"),
        ("ORION_PROMETHEUS_URL", "127.0.0.1:9090", "http(s) URL"),
    ],
)
def test_invalid_values_name_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    for k, v in GOOD.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as e:
        load_settings(tmp_path)
    assert name in str(e.value) and expected in str(e.value)
