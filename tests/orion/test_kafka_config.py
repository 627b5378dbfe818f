"""Kafka client security settings: built in one place, refused at start-up when incomplete."""

from __future__ import annotations

from pathlib import Path

import pytest

from orion.exceptions import ConfigurationError
from orion.settings import ENDPOINT_VARIABLES, load_settings
from tests.orion.test_settings import GOOD

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture(autouse=True)
def good_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for k, v in GOOD.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("ORION_KAFKA_SECURITY_PROTOCOL")


def _sasl(monkeypatch: pytest.MonkeyPatch, ca: Path) -> None:
    monkeypatch.setenv("ORION_KAFKA_SASL_USERNAME", "producer")
    monkeypatch.setenv("ORION_KAFKA_SASL_PASSWORD", "pa55-word-42")
    monkeypatch.setenv("ORION_KAFKA_CA_FILE", str(ca))


def test_sasl_ssl_is_the_default_and_needs_a_user_and_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError) as e:
        load_settings(tmp_path)
    message = str(e.value)
    assert "ORION_KAFKA_SASL_USERNAME and ORION_KAFKA_SASL_PASSWORD must be set" in message
    assert "ORION_KAFKA_SECURITY_PROTOCOL=SASL_SSL" in message


def test_client_config_carries_the_security_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(CA)
    _sasl(monkeypatch, ca)
    s = load_settings(tmp_path)
    assert s.kafka_client_config() == {
        "bootstrap.servers": "127.0.0.1:19092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "producer",
        "sasl.password": "pa55-word-42",
        "ssl.ca.location": str(ca),
    }
    assert "pa55-word-42" not in repr(s) and "pa55-word-42" not in str(s)


def test_plaintext_only_when_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORION_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    conf = load_settings(tmp_path).kafka_client_config()
    assert conf == {"bootstrap.servers": "127.0.0.1:19092", "security.protocol": "PLAINTEXT"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "cannot be read"), ("not a certificate\n", "holds no PEM certificate")],
)
def test_a_bad_ca_file_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, expected: str
) -> None:
    ca = tmp_path / "ca.pem"
    if content is not None:
        ca.write_text(content)
    _sasl(monkeypatch, ca)
    with pytest.raises(ConfigurationError) as e:
        load_settings(tmp_path)
    assert "ORION_KAFKA_CA_FILE" in str(e.value) and expected in str(e.value)


def test_an_unknown_protocol_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORION_KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(ConfigurationError) as e:
        load_settings(tmp_path)
    assert "ORION_KAFKA_SECURITY_PROTOCOL" in str(e.value)
